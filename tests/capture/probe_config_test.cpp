// Probe configuration files (capture/probe_config.h): parsing and its errors, and scheduled
// settings taking effect at their start_at during a run.
#include "capture/probe_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "test_support.h"

namespace flowscope::capture {
namespace {

namespace fs = std::filesystem;

TEST(ProbeConfig, ParsesSettingsAndSortsScheduledBlocks) {
  auto c = parse_probe_config(R"(
name = "edge-1"
interface = "eth0"
idle_timeout = 30
max_flows = 5000
filter = "not port 22"
export = "127.0.0.1:2055"
format = "v9"
dpi = false

[[scheduled]]
start_at = "2026-11-25T08:00:00Z"
filter = "tcp"

[[scheduled]]
start_at = "2026-11-25T06:00:00Z"
idle_timeout = 10
)",
                              "edge-1.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->name, "edge-1");
  EXPECT_EQ(c->interface, "eth0");
  EXPECT_EQ(c->settings.idle_timeout, 30.0);
  EXPECT_EQ(c->settings.max_flows, 5000u);
  EXPECT_EQ(c->settings.filter, "not port 22");
  EXPECT_EQ(c->settings.format, "v9");
  EXPECT_EQ(c->settings.dpi, false);
  ASSERT_EQ(c->scheduled.size(), 2u);
  EXPECT_EQ(c->scheduled[0].settings.idle_timeout, 10.0);  // the earlier start_at first
  EXPECT_EQ(c->scheduled[0].line, 15);
  EXPECT_EQ(c->scheduled[1].settings.filter, "tcp");
}

TEST(ProbeConfig, ErrorsNameTheLineAndTheFix) {
  auto unknown = parse_probe_config("name = \"x\"\nidle_timout = 5\n", "p.toml");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(
      unknown.error().message.rfind("p.toml:2: unknown key \"idle_timout\"; the keys are ", 0), 0u)
      << unknown.error().message;
  auto no_start = parse_probe_config("[[scheduled]]\nfilter = \"tcp\"\n", "p.toml");
  ASSERT_FALSE(no_start.has_value());
  EXPECT_NE(no_start.error().message.find("needs start_at"), std::string::npos);
  auto restart = parse_probe_config(
      "[[scheduled]]\nstart_at = \"2026-01-01T00:00:00Z\"\nformat = \"v5\"\n", "p.toml");
  ASSERT_FALSE(restart.has_value());
  EXPECT_NE(restart.error().message.find(
                "p.toml:3: [[scheduled]] format: cannot change without a restart"),
            std::string::npos)
      << restart.error().message;
  auto bad_value = parse_probe_config("idle_timeout = -1\n", "p.toml");
  ASSERT_FALSE(bad_value.has_value());
  EXPECT_NE(
      bad_value.error().message.find("p.toml:1: idle_timeout: must be a number of seconds above 0"),
      std::string::npos);
  auto syntax = parse_probe_config("idle_timeout = \n", "p.toml");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().message.rfind("p.toml:1:", 0), 0u) << syntax.error().message;
}

TEST(ProbeConfig, ScheduledFilterTakesEffectAtItsTimeWithoutRestart) {
  const char* env = std::getenv("FLOWSCOPE_CORPUS");
  const fs::path file =
      (env != nullptr ? fs::path(env) : fs::path(FLOWSCOPE_SOURCE_DIR) / "tests/data/corpus") /
      "tcp" / "tf_test1.pcap";
  if (!fs::exists(file)) GTEST_SKIP() << "corpus not found at " << file;
  const fs::path config =
      fs::temp_directory_path() / ("flowscope_probe_" + std::to_string(::getpid()) + ".toml");
  std::ofstream(config) << "name = \"replay\"\n"
                           "[[scheduled]]\n"
                           "start_at = \"2008-10-06T17:54:54.6Z\"\n"
                           "filter = \"tcp\"\n";
  auto r = testing::run_flowscope(
      {"capture", "-r", file.string(), "--config", config.string(), "-w", "/dev/null"});
  fs::remove(config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // tshark on tf_test1: 7 frames before 17:54:54.6, then 20 TCP frames (ICMP errors quoting
  // TCP excluded); 4 UDP and 1 ICMPv6 frame after it are filtered out.
  EXPECT_NE(r.err.find("27 packets"), std::string::npos) << r.err;  // the filter's output
  EXPECT_NE(r.err.find("27 metered"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("config: replay: settings of line 2 in effect from "
                       "2008-10-06T17:54:54.600Z"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 scheduled setting(s) applied, 0 pending"), std::string::npos);
}

}  // namespace
}  // namespace flowscope::capture
