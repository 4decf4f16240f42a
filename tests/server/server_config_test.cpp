// Configuration errors name the file, the line and the fix; defaults; restart_needed; the
// checks start() runs before it binds anything (Server::check, also `serve --check`).
#include "server/server_config.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "server/server.h"

namespace flowscope::server {
namespace {

std::string error_of(std::string_view text) {
  auto c = parse_server_config(text, "serve.toml");
  EXPECT_FALSE(c);
  return c ? std::string() : c.error().message;
}

TEST(ServerConfig, DefaultsAndValues) {
  auto c = parse_server_config(R"(
start_at = "2026-11-24T18:00:00Z"
[ingest]
listen = ["127.0.0.1"]
netflow_port = 9995
workers = 3
[stitch]
window = "90s"
[store]
dir = "data"
[auth]
maxsessionkeyage = "12h"
[query]
allow = ["10.0.0.0/8", "127.0.0.1"]
)",
                               "serve.toml", "/etc/flowscope");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ingest.netflow_port, 9995);
  EXPECT_EQ(c->ingest.ipfix_port, 4739);
  EXPECT_EQ(c->ingest.sflow_port, 6343);
  EXPECT_EQ(c->ingest.workers, 3u);
  EXPECT_EQ(c->stitch.window, std::chrono::seconds(90));
  EXPECT_EQ(c->stitch.quiet_after, std::chrono::milliseconds(100));
  EXPECT_EQ(c->store.dir, "/etc/flowscope/data");
  EXPECT_EQ(c->auth.max_key_age, std::chrono::hours(12));
  EXPECT_EQ(c->auth.key_idle, std::chrono::minutes(30));
  EXPECT_EQ(c->query.port, 9640);
  EXPECT_EQ(c->query.allow.size(), 2u);
  ASSERT_TRUE(c->start_at);
  EXPECT_EQ(format_time(*c->start_at), "2026-11-24T18:00:00Z");
  EXPECT_EQ(c->users_path(), "/etc/flowscope/data/users.json");
}

TEST(ServerConfig, ErrorsNameFileLineAndFix) {
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[stitch]\nwindow = \"7x\"\n"),
            "serve.toml:4: [stitch] window: \"7x\" is not a duration; use e.g. \"30m\", \"12h\", "
            "\"90s\"");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[ingest]\nwrokers = 2\n"),
            "serve.toml:4: [ingest]: unknown key \"wrokers\"; the keys are listen, netflow_port, "
            "ipfix_port, sflow_port, workers, socket_buffer, queue_batches, batch_rows");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[ingest]\nnetflow_port = 70000\n"),
            "serve.toml:4: [ingest] netflow_port: must be an integer from 0 to 65535 (0: any free "
            "port)");
  EXPECT_EQ(
      error_of("[ingest]\nworkers = 1\n"),
      "serve.toml:0: [store] dir is required: add dir = \"/var/lib/flowscope\" under [store]");
  EXPECT_NE(
      error_of("[store]\ndir = \"d\"\n[query]\nallow = [\"10.1.2.3/8\"]\n").find("serve.toml:4:"),
      std::string::npos);
  EXPECT_NE(error_of("[store\ndir = 1").find("serve.toml:1:"), std::string::npos);
  EXPECT_NE(
      error_of("log_level = \"loud\"\n[store]\ndir = \"d\"\n").find("serve.toml:1: log_level"),
      std::string::npos);
  EXPECT_NE(
      error_of("start_at = \"tomorrowish\"\n[store]\ndir = \"d\"\n").find("serve.toml:1: start_at"),
      std::string::npos);
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[query]\ntls_cert = \"c.pem\"\n"),
            "serve.toml:4: [query] tls_cert and tls_key go together: give both PEM files, or "
            "neither for plain TCP");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[query]\ntls_required = true\n"),
            "serve.toml:4: [query] tls_required needs tls_cert and tls_key");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[query]\ntls_required = \"yes\"\n"),
            "serve.toml:4: [query] tls_required: must be true or false (no quotes)");
  EXPECT_NE(error_of("[store]\ndir = \"d\"\n[query]\ntls_cert = \"/nonexistent/c.pem\"\n"
                     "tls_key = \"/nonexistent/k.pem\"\n")
                .find("serve.toml:4: [query] tls_cert \"/nonexistent/c.pem\": cannot read"),
            std::string::npos);
}

TEST(ServerConfig, RestartNeeded) {
  auto a = parse_server_config("[store]\ndir = \"d\"\n", "a");
  ASSERT_TRUE(a);
  ServerConfig b = *a;
  EXPECT_TRUE(restart_needed(*a, b).empty());
  b.stitch.window = std::chrono::seconds(5);
  EXPECT_TRUE(restart_needed(*a, b).empty());
  b.ingest.netflow_port = 1;
  b.store.dir = "e";
  EXPECT_EQ(restart_needed(*a, b).size(), 2u);
}

TEST(ServerConfig, QuietAfterIsADurationThatNeedsARestart) {
  auto a = parse_server_config("[store]\ndir = \"d\"\n[stitch]\nquiet_after = \"1h\"\n", "a");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->stitch.quiet_after, std::chrono::hours(1));
  ServerConfig b = *a;
  b.stitch.quiet_after = std::chrono::milliseconds(100);
  EXPECT_EQ(restart_needed(*a, b), std::vector<std::string>{"[stitch] quiet_after"});
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[stitch]\nquiet_after = \"soon\"\n"),
            "serve.toml:4: [stitch] quiet_after: \"soon\" is not a duration; use e.g. \"30m\", "
            "\"12h\", \"90s\"");
}

TEST(ServerConfig, ZeroAndOverflowingDurationsHaveTheirOwnMessages) {
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[auth]\nkey_idle = \"0s\"\n"),
            "serve.toml:4: [auth] key_idle: \"0s\" must be more than zero; use e.g. \"30m\", "
            "\"12h\", \"90s\"");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\ncommit_interval = \"0ms\"\n"),
            "serve.toml:3: [store] commit_interval: \"0ms\" must be more than zero; use e.g. "
            "\"30m\", \"12h\", \"90s\"");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[stitch]\nwindow = \"99999999999d\"\n"),
            "serve.toml:4: [stitch] window: \"99999999999d\" is too large; the maximum is "
            "\"36500d\"");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[auth]\nlockout = \"36501d\"\n"),
            "serve.toml:4: [auth] lockout: \"36501d\" is too large; the maximum is \"36500d\"");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\nsync_interval = \"99999999999d\"\n"),
            "serve.toml:3: [store] sync_interval: \"99999999999d\" is too large; the maximum is "
            "\"36500d\"");
  auto longest =
      parse_server_config("[store]\ndir = \"d\"\n[auth]\nlockout = \"36500d\"\n", "serve.toml");
  ASSERT_TRUE(longest) << longest.error().message;
  EXPECT_EQ(longest->auth.lockout, std::chrono::days(36500));
}

// docs/storage.md: "sync_interval ... 0 syncs every append".
TEST(ServerConfig, SyncIntervalZeroMakesEveryAppendDurable) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("flowscope-sync0-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  for (const char* interval : {"0s", "1h"}) {
    auto c = parse_server_config(
        fmt::format("[ingest]\nlisten = [\"127.0.0.1\"]\nnetflow_port = 0\nipfix_port = 0\n"
                    "sflow_port = 0\nworkers = 1\n[store]\ndir = \"{}\"\nsync_interval = "
                    "\"{}\"\n[query]\nport = 0\n[http]\nport = 0\n",
                    (dir / interval).string(), interval),
        "serve.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->store.sync_interval.count(), std::string(interval) == "0s" ? 0 : 3'600'000);
    auto s = Server::start(*c);
    ASSERT_TRUE(s) << s.error().message;
    SessionBatch batch;
    batch.add_row();
    batch.set<FieldId::SessionId>(0, 1);
    auto seq = (*s)->store().append(batch);
    ASSERT_TRUE(seq) << seq.error().message;
    if (std::string(interval) == "0s") {
      EXPECT_EQ((*s)->store().durable_sequence(), *seq);  // synced before append returned
    } else {
      EXPECT_LT((*s)->store().durable_sequence(), *seq);  // waits for the hourly sync
    }
    (*s)->stop();
  }
  std::filesystem::remove_all(dir);
}

// What start() refuses, Server::check (and so `serve --check`) refuses, naming the key's line.
class ServerCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("flowscope-server-check-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string check_error(const std::string& text) {
    auto c = parse_server_config(text, "serve.toml", dir_);
    EXPECT_TRUE(c) << c.error().message;
    if (!c) return {};
    auto r = Server::check(*c);
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message;
  }
  std::filesystem::path dir_;
};

TEST_F(ServerCheck, EachBadSettingIsNamedWithItsLine) {
  const std::string store = "[store]\ndir = \"data\"\n";
  std::string m = check_error(store + "[enrich]\nip_groups = \"missing.ini\"\n");
  EXPECT_NE(m.find("serve.toml:4: [enrich] ip_groups"), std::string::npos) << m;
  EXPECT_NE(m.find("missing.ini"), std::string::npos) << m;

  std::ofstream(dir_ / "groups.json") << "{\"groups\": {\"a\": [\"10.0.0.0/8\"]}}\n";
  m = check_error(store + "[enrich]\nip_groups = \"groups.json\"\n");
  EXPECT_NE(m.find("serve.toml:4: [enrich] ip_groups"), std::string::npos) << m;
  EXPECT_NE(m.find("groups.json:1:"), std::string::npos) << m;

  std::ofstream(dir_ / "afile") << "not a directory\n";
  m = check_error("[store]\ndir = \"afile\"\n");
  EXPECT_NE(m.find("serve.toml:2: [store] dir"), std::string::npos) << m;
  EXPECT_NE(m.find("is not a directory"), std::string::npos) << m;

  m = check_error(store + "[query]\nport = 19640\n[http]\nport = 19640\n");
  EXPECT_NE(m.find("serve.toml:6: [http] port 19640 is also the [query] port"), std::string::npos)
      << m;
  m = check_error(store + "[query]\nlisten = \"0.0.0.0\"\nport = 19640\n[http]\nport = 19640\n");
  EXPECT_NE(m.find("[http] port 19640 is also the [query] port"), std::string::npos) << m;
}

TEST_F(ServerCheck, AGoodConfigurationPasses) {
  std::ofstream(dir_ / "groups.ini") << "[lab]\nnet = 10.0.0.0/8\n";
  auto c = parse_server_config(
      "[store]\ndir = \"data\"\n[enrich]\nip_groups = \"groups.ini\"\n[query]\nport = 19640\n"
      "[http]\nlisten = \"127.0.0.2\"\nport = 19640\n",
      "serve.toml", dir_);
  ASSERT_TRUE(c) << c.error().message;
  auto r = Server::check(*c);
  EXPECT_TRUE(r) << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data"));  // a check creates nothing
}

TEST(ServerConfig, NameSourceKeysAreChecked) {
  auto bad = parse_server_config("[store]\ndir = \"d\"\n[enrich]\nsnmp_targets = [\"router1\"]\n",
                                 "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("t.toml:4:"), std::string::npos) << bad.error().message;
  auto flag =
      parse_server_config("[store]\ndir = \"d\"\n[enrich]\nreverse_dns = \"yes\"\n", "t.toml");
  ASSERT_FALSE(flag);
  EXPECT_NE(flag.error().message.find("true or false"), std::string::npos);
  auto good = parse_server_config(
      "[store]\ndir = \"d\"\n[enrich]\nreverse_dns = true\ndns_servers = [\"127.0.0.1:53\"]\n"
      "snmp_targets = [\"192.0.2.1\", \"192.0.2.2=10.0.0.2:1161\"]\nsnmp_interval = \"10m\"\n",
      "t.toml");
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_TRUE(good->enrich.reverse_dns);
  EXPECT_EQ(good->enrich.snmp_targets.size(), 2u);
  EXPECT_EQ(good->enrich.snmp_interval, std::chrono::minutes(10));
}

}  // namespace
}  // namespace flowscope::server
