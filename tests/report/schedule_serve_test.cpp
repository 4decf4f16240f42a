// The scheduler inside `flowscope serve`: a job whose due time passed while the server was down
// (its state file says it last ran three hours ago) runs once at start as a child process,
// writes its report, and shows in the history file, `flowscope schedule history|list` and
// /metrics; a bad `when` stops `serve --check` naming the line. Waits on files with a deadline,
// never sleeps a fixed time.
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include "store/store_test_support.h"

#include "test_support.h"

namespace flowscope::report {
namespace {

namespace fs = std::filesystem;
const std::string kGroups = std::string(FLOWSCOPE_SOURCE_DIR) + "/tests/data/report/groups.toml";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `ready` until it holds or `seconds` pass.
template <typename F>
bool wait_for(F ready, int seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::yield();
    ::usleep(20'000);  // a poll interval, not a wait for an outcome
  }
  return ready();
}

std::string config(const fs::path& dir, const std::string& when) {
  return "[ingest]\nlisten = [\"127.0.0.1\"]\nnetflow_port = 0\nipfix_port = 0\nsflow_port = 0\n"
         "workers = 1\n[store]\ndir = \"" +
         (dir / "data").string() +
         "\"\n[query]\nport = 0\n[http]\nport = 0\n\n"
         "[[schedule]]\nname = \"hourly-manager\"\nwhen = \"" +
         when +
         "\"\n"
         "command = \"report volume -d {datadir} --groups " +
         kGroups + " --start 2026-11-01 --end 2026-11-01 --format html --out " +
         (dir / "reports").string() + "/{date}\"\n";
}

TEST(ScheduleServe, MissedRunIsCaughtUpOnceAtStart) {
  store::testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  auto g = testing::run_flowscope({"gen", "sessions", "-d", data.string(), "--groups", kGroups,
                                   "--start", "2026-11-01T00:00:00Z", "--duration", "1d", "--rate",
                                   "0.2", "-q"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::int64_t three_hours_ago = (now_ms / 3'600'000 - 3) * 3'600'000;
  std::ofstream(data / "schedule-state.json")
      << nlohmann::json{{"jobs", {{"hourly-manager", {{"last_due_ms", three_hours_ago}}}}}}.dump();
  const fs::path cfg = dir.path() / "serve.toml";
  std::ofstream(cfg) << config(dir.path(), "@hourly");

  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string err = (dir.path() / "serve.err").string();
    if (!std::freopen(err.c_str(), "w", stderr)) ::_exit(126);
    const std::string ready = (dir.path() / "ready.json").string();
    ::execl(FLOWSCOPE_BINARY, FLOWSCOPE_BINARY, "serve", "-C", cfg.c_str(), "--ready-file",
            ready.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const fs::path history = data / "schedule-history.jsonl";
  const bool ran = wait_for([&] { return slurp(history).find('\n') != std::string::npos; }, 60);
  ASSERT_TRUE(wait_for([&] { return fs::exists(dir.path() / "ready.json"); }, 30));
  const auto ready = nlohmann::json::parse(slurp(dir.path() / "ready.json"));
  const std::string metrics = testing::run_shell(
      "curl -s http://127.0.0.1:" + std::to_string(ready["http_port"].get<int>()) + "/metrics");
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(ran) << slurp(dir.path() / "serve.err");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir.path() / "serve.err");

  // One run, the latest missed due time, caught up, ok, with its report.
  std::istringstream lines(slurp(history));
  std::string line, last;
  int n = 0;
  while (std::getline(lines, line)) {
    if (!line.empty()) ++n, last = line;
  }
  EXPECT_EQ(n, 1);
  const auto run = nlohmann::json::parse(last);
  EXPECT_EQ(run["job"], "hourly-manager");
  EXPECT_EQ(run["outcome"], "ok") << run.dump() << slurp(data / "schedule-logs/hourly-manager.log");
  EXPECT_TRUE(run["caught_up"].get<bool>());
  ASSERT_EQ(run["outputs"].size(), 1u) << run.dump();
  const std::string out = run["outputs"][0].get<std::string>();
  EXPECT_NE(out.find("volume-manager.html"), std::string::npos);
  EXPECT_TRUE(fs::exists(out));
  EXPECT_NE(metrics.find("flowscope_schedule_runs_total{job=\"hourly-manager\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("flowscope_schedule_last_success{job=\"hourly-manager\"} 1"),
            std::string::npos);
  const std::string log = slurp(dir.path() / "serve.err");
  EXPECT_NE(log.find("job hourly-manager"), std::string::npos) << log;
  EXPECT_NE(log.find("caught up after downtime"), std::string::npos) << log;

  // The CLI reads the same history and state.
  auto h = testing::run_flowscope({"schedule", "history", "-d", data.string()});
  EXPECT_EQ(h.exit_code, 0) << h.err;
  EXPECT_NE(h.out.find("hourly-manager       ok"), std::string::npos) << h.out;
  auto l = testing::run_flowscope({"schedule", "list", "-C", cfg.string(), "--json"});
  EXPECT_EQ(l.exit_code, 0) << l.err;
  const auto listed = nlohmann::json::parse(l.out.substr(0, l.out.find('\n')));
  EXPECT_EQ(listed["runs"], 1);
  EXPECT_EQ(listed["kind"], "report");

  // A bad `when` stops the check, naming the line of the configuration.
  std::ofstream(cfg, std::ios::trunc) << config(dir.path(), "0 25 * * *");
  auto bad = testing::run_flowscope({"serve", "-C", cfg.string(), "--check"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("serve.toml:16: schedule hourly-manager: when \"0 25 * * *\": hour 25 "
                         "is outside 0-23"),
            std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace flowscope::report
