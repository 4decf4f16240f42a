// /metrics (F20): flowscope_build_info and the process_* families are there with plausible
// values; a histogram printed while other threads observe is always consistent (cumulative
// buckets never decrease, +Inf holds them all and equals _count); the audit log is reopened on
// SIGHUP's reload, so that logrotate can move it without copytruncate.
#include "server/metrics.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace flowscope::server::testing {
namespace {

// The value of the sample whose line starts with `prefix` + " ", or -1.
double value_of(const std::string& text, const std::string& prefix) {
  const auto at = text.find("\n" + prefix + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size() + 2));
}

TEST(MetricsHistogram, ConsistentWhileObserved) {
  LatencyHistogram h;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&h, &stop, t] {
      std::uint64_t i = static_cast<std::uint64_t>(t);
      while (!stop.load(std::memory_order_relaxed)) {
        // 1 ms ... 20 s: every bucket and the overflow above 10 s.
        h.observe(std::chrono::microseconds(1000 + (i * 7919) % 20'000'000));
        ++i;
      }
    });
  }
  for (int round = 0; round < 3000; ++round) {
    MetricsWriter w;
    w.histogram("x_seconds", h);
    std::istringstream lines(w.text());
    std::string line;
    double previous = 0;
    double inf = -1;
    double count = -1;
    while (std::getline(lines, line)) {
      const double v = std::stod(line.substr(line.rfind(' ') + 1));
      if (line.rfind("x_seconds_bucket{le=\"+Inf\"}", 0) == 0) {
        inf = v;
      } else if (line.rfind("x_seconds_bucket", 0) == 0) {
        ASSERT_GE(v, previous) << w.text();
        previous = v;
      } else if (line.rfind("x_seconds_count", 0) == 0) {
        count = v;
      }
    }
    ASSERT_GE(inf, previous) << w.text();
    ASSERT_EQ(inf, count) << w.text();
  }
  stop = true;
  for (auto& t : writers) t.join();
}

class MetricsServerTest : public ServerFixture {};

TEST_F(MetricsServerTest, BuildInfoAndProcessMetrics) {
  start(config());
  const std::string text = "\n" + server_->metrics_text();
  EXPECT_NE(text.find("\n# TYPE flowscope_build_info gauge\n"), std::string::npos);
  EXPECT_NE(text.find("\nflowscope_build_info{version=\"" FLOWSCOPE_TEST_VERSION "\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_GE(value_of(text, "process_cpu_seconds_total"), 0);
  EXPECT_GT(value_of(text, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(value_of(text, "process_virtual_memory_bytes"),
            value_of(text, "process_resident_memory_bytes"));
  // The server's sockets and store files at least, and no more than the limit.
  EXPECT_GE(value_of(text, "process_open_fds"), 5);
  EXPECT_LE(value_of(text, "process_open_fds"), value_of(text, "process_max_fds"));
  const double start_time = value_of(text, "process_start_time_seconds");
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(start_time, now + 2);
  EXPECT_GT(start_time, now - 3600) << "this test process started within the hour";
}

TEST_F(MetricsServerTest, ReloadReopensTheAuditLog) {
  make_users();
  ServerConfig c = config();
  c.auth.audit_log = dir_ / "audit.log";
  const std::filesystem::path conf = dir_ / "serve.toml";
  {
    std::ofstream f(conf);
    f << "[ingest]\nlisten = [\"127.0.0.1\"]\nnetflow_port = 0\nipfix_port = 0\nsflow_port = 0\n"
      << "workers = 1\n[store]\ndir = \"" << (dir_ / "data").string() << "\"\n"
      << "[query]\nport = 0\n[http]\nport = 0\n[auth]\nusers = \"" << users_file().string()
      << "\"\naudit_log = \"" << c.auth.audit_log.string() << "\"\n";
  }
  c.source = conf.string();
  start(c);
  ASSERT_TRUE(server_->auth().login("admin", "adminpw", *IpAddress::parse("127.0.0.1"), false));
  // logrotate: the file moves away; the server still holds the old one until the reload.
  std::filesystem::rename(c.auth.audit_log, dir_ / "audit.log.1");
  ASSERT_TRUE(server_->reload_file());
  ASSERT_TRUE(server_->auth().login("admin", "adminpw", *IpAddress::parse("127.0.0.1"), false));
  std::ifstream fresh(c.auth.audit_log);
  std::string line;
  ASSERT_TRUE(std::getline(fresh, line)) << "nothing written to the new audit.log";
  EXPECT_NE(line.find("login"), std::string::npos) << line;
}

}  // namespace
}  // namespace flowscope::server::testing
