// `gen traffic`: scenario parsing (errors name the line and the fix; non-loopback refused) and
// real runs on loopback whose report says exactly what was exchanged.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "gen/traffic_runner.h"
#include "gen/traffic_scenario.h"

namespace flowscope::gen {
namespace {

Scenario parse_ok(std::string_view text) {
  auto s = parse_scenario(text, "test.toml");
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return s ? *s : Scenario{};
}

std::string parse_error(std::string_view text) {
  auto s = parse_scenario(text, "test.toml");
  EXPECT_FALSE(s);
  return s ? "" : s.error().message;
}

TEST(TrafficScenario, StreamsKeepFileOrderAndDefaults) {
  const Scenario s = parse_ok(R"(
name = "demo"
duration = "2s"
[[http]]
size = 1000
[[dns]]
count = 3
[[udp]]
port = 40000
size = 10
)");
  EXPECT_EQ(s.name, "demo");
  EXPECT_EQ(s.duration.count(), 2000);
  EXPECT_EQ(s.address.to_string(), "127.0.0.1");
  ASSERT_EQ(s.streams.size(), 3u);
  EXPECT_EQ(s.streams[0].kind, StreamKind::Http);
  EXPECT_EQ(s.streams[0].size, 1000u);
  EXPECT_EQ(s.streams[1].kind, StreamKind::Dns);
  EXPECT_EQ(s.streams[1].size, 40u);  // a DNS query's typical size
  EXPECT_EQ(s.streams[1].reply_size, 120u);
  EXPECT_EQ(s.streams[1].count, 3u);
  EXPECT_EQ(s.streams[2].port, 40000);
  EXPECT_EQ(s.streams[2].name, "udp1");
}

TEST(TrafficScenario, ErrorsNameTheLineAndTheFix) {
  EXPECT_NE(parse_error("[[udp]]\nsize = 10\nrte = 5\n")
                .find("test.toml:3: [[udp]]: unknown key \"rte\"; the keys are name, port"),
            std::string::npos);
  EXPECT_NE(parse_error("[[udp]]\ncount = 0\n").find("test.toml:2: [[udp]] count: must be"),
            std::string::npos);
  EXPECT_NE(parse_error("[[ftp]]\nmode = \"sideways\"\n").find("[[ftp]] mode: must be"),
            std::string::npos);
  EXPECT_NE(parse_error("[[udp]]\nsize = 70000\n").find("1 to 65000"), std::string::npos);
  EXPECT_NE(parse_error("duration = \"soon\"\n[[udp]]\n").find("test.toml:1: duration"),
            std::string::npos);
  EXPECT_NE(parse_error("name = \"x\"\n").find("no streams"), std::string::npos);
  EXPECT_NE(parse_error("[[udp]\n").find("test.toml:1:"), std::string::npos);  // TOML syntax
}

TEST(TrafficScenario, RefusesAddressesOffLoopback) {
  const std::string e = parse_error("address = \"192.0.2.1\"\n[[udp]]\n");
  EXPECT_NE(e.find("not a loopback address"), std::string::npos) << e;
  EXPECT_NE(e.find("netns"), std::string::npos) << e;
  // ::1 and all of 127/8 are loopback.
  EXPECT_TRUE(parse_scenario("address = \"::1\"\n[[udp]]\n", "t"));
  EXPECT_TRUE(parse_scenario("address = \"127.3.4.5\"\n[[udp]]\n", "t"));
  // With a namespace any address is allowed (the namespace isolates it).
  EXPECT_TRUE(parse_scenario("netns = \"lab\"\naddress = \"10.0.0.1\"\n[[udp]]\n", "t"));
}

const ExpectedSession* find(const TrafficReport& r, std::string_view stream,
                            std::string_view role = "") {
  for (const ExpectedSession& s : r.sessions) {
    if (s.stream == stream && s.role == role) return &s;
  }
  return nullptr;
}

TEST(TrafficRunner, ExchangesWhatTheScenarioSays) {
  const Scenario s = parse_ok(R"(
duration = "20s"
[[udp]]
name = "voip"
size = 160
reply_size = 20
rate = 200
count = 10
[[snmp]]
count = 2
rate = 50
[[tcp]]
size = 3000
count = 4
rate = 100
sends_per_connection = 2
[[http]]
size = 50000
count = 2
rate = 50
[[ftp]]
name = "pasv"
mode = "pasv"
size = 7000
count = 2
rate = 50
[[ftp]]
name = "active"
mode = "port"
size = 9000
)");
  auto r = run_scenario(s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->failures, 0u) << (r->problems.empty() ? "" : r->problems[0]);
  EXPECT_FALSE(r->timed_out);

  const ExpectedSession* voip = find(*r, "voip");
  ASSERT_NE(voip, nullptr);
  EXPECT_EQ(voip->protocol, 17);
  EXPECT_EQ(voip->client_datagrams, 10u);
  EXPECT_EQ(voip->server_datagrams, 10u);
  EXPECT_EQ(voip->client_payload, 1600u);
  EXPECT_EQ(voip->server_payload, 200u);
  EXPECT_NE(voip->client_port, 0);
  EXPECT_NE(voip->server_port, 0);

  const ExpectedSession* snmp = find(*r, "snmp1");
  ASSERT_NE(snmp, nullptr);
  EXPECT_EQ(snmp->server_payload, 400u);  // two 200-byte responses

  int tcp_sessions = 0;
  for (const ExpectedSession& e : r->sessions) {
    if (e.stream != "tcp1") continue;
    ++tcp_sessions;
    EXPECT_EQ(e.client_payload, 6000u);  // two sends of 3000 per connection
  }
  EXPECT_EQ(tcp_sessions, 2);

  int http = 0;
  for (const ExpectedSession& e : r->sessions) {
    if (e.stream != "http1") continue;
    ++http;
    EXPECT_GT(e.server_payload, 50000u);  // body and header
    EXPECT_GT(e.client_payload, 0u);
  }
  EXPECT_EQ(http, 2);

  // FTP: one control session and a data session per transfer; in active mode the server opens
  // the data connection, so it is the TCP client of that session.
  const ExpectedSession* control = find(*r, "pasv", "control");
  ASSERT_NE(control, nullptr);
  EXPECT_GT(control->server_payload, control->client_payload);  // replies are longer
  int pasv_data = 0;
  for (const ExpectedSession& e : r->sessions) {
    if (e.stream == "pasv" && e.role == "data") {
      ++pasv_data;
      EXPECT_EQ(e.server_payload, 7000u);
      EXPECT_EQ(e.client_payload, 0u);
    }
  }
  EXPECT_EQ(pasv_data, 2);
  const ExpectedSession* active = find(*r, "active", "data");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->client_payload, 9000u);
  EXPECT_EQ(active->server_payload, 0u);
}

TEST(TrafficRunner, DurationEndsTheScenario) {
  const Scenario s = parse_ok("duration = \"300ms\"\n[[udp]]\nrate = 10\ncount = 1000\n");
  auto r = run_scenario(s);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  ASSERT_EQ(r->sessions.size(), 1u);
  EXPECT_LE(r->sessions[0].client_datagrams, 5u);
  EXPECT_GE(r->sessions[0].client_datagrams, 2u);
}

TEST(TrafficRunner, CancelStopsEarly) {
  const Scenario s = parse_ok("duration = \"30s\"\n[[udp]]\nrate = 5\ncount = 1000\n");
  std::atomic<bool> cancel{true};
  auto r = run_scenario(s, &cancel);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->cancelled);
}

TEST(TrafficRunner, PortInUseFailsBeforeAnyTraffic) {
  // Hold a listening port, then ask a scenario to serve HTTP on it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  auto r =
      run_scenario(parse_ok("[[udp]]\ncount = 1\n[[http]]\nport = " + std::to_string(port) + "\n"));
  ::close(fd);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("stream http1: bind to 127.0.0.1 port " + std::to_string(port)),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace flowscope::gen
