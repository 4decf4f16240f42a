#include "report/job_process.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <unistd.h>

extern char** environ;

namespace flowscope::report {

JobResult run_job_process(const JobProcessOptions& options, const ScheduleJob& job, TimeMs due) {
  JobResult result;
  std::vector<std::string> args = {options.executable.string()};
  for (auto& w : expand_command(job, options.datadir, due, job.zone ? *job.zone : options.zone))
    args.push_back(std::move(w));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::error_code ec;
  std::filesystem::create_directories(options.log_dir, ec);
  const std::string log_path = (options.log_dir / (job.name + ".log")).string();
  {
    std::ofstream log(log_path, std::ios::app);
    log << "== " << format_time(due, options.zone) << ":";
    for (std::size_t i = 1; i < args.size(); ++i) log << ' ' << args[i];
    log << '\n';
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    result.message = "cannot create a pipe";
    result.exit_code = -1;
    return result;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    result.exit_code = -1;
    result.message = fmt::format("cannot start {}: {}", args[0], std::strerror(rc));
    return result;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    // `flowscope report` prints "PATH" or "PATH (N pages)".
    const std::string path = line.substr(0, line.find(" ("));
    if (!path.empty() && std::filesystem::is_regular_file(path)) result.outputs.push_back(path);
  }
  if (!result.ok) {
    std::ifstream log(log_path);
    std::string line, last;
    while (std::getline(log, line)) {
      if (!line.empty()) last = line;
    }
    result.message = last;
  }
  {
    std::ofstream log(log_path, std::ios::app);
    log << "== exit " << result.exit_code << '\n';
  }
  return result;
}

}  // namespace flowscope::report
