// Configuration errors name the file, the line and the fix; defaults; restart_needed.
#include "server/server_config.h"

#include <gtest/gtest.h>

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
            "serve.toml:4: [stitch] window \"7x\" is not a duration; use e.g. \"30m\", \"12h\", "
            "\"90s\"");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[ingest]\nwrokers = 2\n"),
            "serve.toml:4: unknown key [ingest] wrokers; see docs/serve.md for the keys");
  EXPECT_EQ(error_of("[store]\ndir = \"d\"\n[ingest]\nnetflow_port = 70000\n"),
            "serve.toml:4: [ingest] netflow_port must be an integer from 0 to 65535 (0: any free "
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
            "serve.toml:4: [query] tls_required must be true or false (no quotes)");
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

}  // namespace
}  // namespace flowscope::server
