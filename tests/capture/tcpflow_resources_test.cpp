// F16 speed and memory of the tcpflow drop-in (docs/tcpflow.md "Performance"): on a generated
// HTTP capture with many interleaved connections, bin/tcpflow (the lean flowscope-tcpflow
// executable) writes the same files as Debian's tcpflow 1.6.1 with a peak RSS at most 1.5x
// tcpflow's, plain and with -e http. Peak RSS is the kernel's ru_maxrss of each finished process,
// which does not depend on the machine's load. (Speed is measured by make bench, not here: it
// depends on the load.) Skipped without /usr/bin/tcpflow or the bench's gen_http_pcap (sanitizer
// builds, whose RSS means nothing anyway).
#include <sys/resource.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "capture/tcpflow_test_support.h"

namespace flowscope::testing {
namespace {

namespace fs = std::filesystem;

// Runs `argv` with its output on /dev/null; returns {exit code, peak RSS in KiB}.
std::pair<int, long> run_measured(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (pid < 0 || ::wait4(pid, &status, 0, &usage) != pid) return {-1, 0};
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, usage.ru_maxrss};
}

TEST(TcpflowResources, PeakMemoryWithinOneAndAHalfTimesTcpflows) {
  const std::string tcpflow = "/usr/bin/tcpflow";
  const fs::path bin = fs::path(FLOWSCOPE_BINARY).parent_path();
  const fs::path gen = bin / "gen_http_pcap";
  if (access(tcpflow.c_str(), X_OK) != 0) GTEST_SKIP() << "tcpflow not installed at " << tcpflow;
  if (access(gen.c_str(), X_OK) != 0) GTEST_SKIP() << gen << " not built (a bench tool)";
  const fs::path dir =
      fs::temp_directory_path() / ("flowscope-tcpflow-rss-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path pcap = dir / "http.pcap";
  ASSERT_EQ(run_binary(gen.string(), {pcap.string(), "40", "7"}, 120), 0);
  for (const bool http : {false, true}) {
    SCOPED_TRACE(http ? "-e http" : "plain");
    const std::string slug = http ? "http" : "plain";
    auto args = [&](const std::string& program, const fs::path& out) {
      std::vector<std::string> a = {program, "-r", pcap.string(), "-o", out.string()};
      if (http) a.insert(a.end(), {"-e", "http"});
      return a;
    };
    fs::create_directories(dir / ("theirs-" + slug));
    fs::create_directories(dir / ("ours-" + slug));
    const auto [their_rc, their_rss] = run_measured(args(tcpflow, dir / ("theirs-" + slug)));
    const auto [our_rc, our_rss] =
        run_measured(args((bin / "tcpflow").string(), dir / ("ours-" + slug)));
    ASSERT_EQ(their_rc, 0);
    ASSERT_EQ(our_rc, 0);
    EXPECT_EQ(manifest(dir / ("ours-" + slug)), manifest(dir / ("theirs-" + slug)));
    EXPECT_GT(their_rss, 0);
    EXPECT_LE(static_cast<double>(our_rss), 1.5 * static_cast<double>(their_rss))
        << "ours " << our_rss << " KiB, tcpflow " << their_rss << " KiB";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::testing
