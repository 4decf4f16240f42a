// Issue F16, tcpflow 1.6.1: `-e http` writes the same body files as Debian's /usr/bin/tcpflow
// (names, bytes, MD5s, and the DFXML byte runs) on keep-alive loopback captures
// (tests/data/http_keepalive/, IPv4 and IPv6) and on a generated capture with one connection per
// rule of docs/tcpflow.md "HTTP bodies". Skipped when tcpflow is not installed.
// http_scanner_test.cpp checks the rules without tcpflow.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "capture/tcpflow/tcp_pcap_builder.h"
#include "capture/tcpflow_test_support.h"

namespace flowscope::testing {
namespace {

namespace fs = std::filesystem;
using capture::tcpflow::build_tcp_frame;
using capture::tcpflow::TcpFrameSpec;
using capture::tcpflow::TcpPcapFile;

// The number of -HTTPBODY- lines in a manifest.
int body_files(const std::string& manifest) {
  int n = 0;
  for (std::size_t at = manifest.find("-HTTPBODY-"); at != std::string::npos;
       at = manifest.find("-HTTPBODY-", at + 1)) {
    ++n;
  }
  return n;
}

// Runs both tools with -e http on `pcap`: success when both exit 0, tcpflow wrote at least
// `min_bodies` body files (a scanner that writes none would otherwise compare equal) and our
// manifest (names, bytes, MD5s) and DFXML flows equal tcpflow's.
::testing::AssertionResult same_bodies_as_tcpflow(const fs::path& pcap, const std::string& tag,
                                                  int min_bodies) {
  TempDir dir(tag + "-out");
  const fs::path theirs = dir / "theirs";
  const fs::path mine = dir / "ours";
  auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"-e", "http", "-r", pcap.string(), "-o", out.string()};
  };
  if (const int rc = run_binary(kTcpflow, args(theirs), 120); rc != 0) {
    return ::testing::AssertionFailure() << tag << ": tcpflow exited " << rc;
  }
  if (const int rc = run_binary(our_tcpflow(), args(mine), 120); rc != 0) {
    return ::testing::AssertionFailure() << tag << ": our tcpflow exited " << rc;
  }
  const std::string expected = manifest(theirs);
  if (body_files(expected) < min_bodies) {
    return ::testing::AssertionFailure()
           << tag << ": tcpflow wrote fewer than " << min_bodies << " body files:\n"
           << expected;
  }
  if (const std::string actual = manifest(mine); actual != expected) {
    return ::testing::AssertionFailure() << tag << ": files differ\ntcpflow:\n"
                                         << expected << "ours:\n"
                                         << actual;
  }
  const std::string dfxml =
      describe_differences(dfxml_flows(theirs / "report.xml"), dfxml_flows(mine / "report.xml"));
  if (!dfxml.empty()) return ::testing::AssertionFailure() << tag << ": report.xml: " << dfxml;
  return ::testing::AssertionSuccess();
}

#define REQUIRE_TCPFLOW()                                      \
  do {                                                         \
    if (access(kTcpflow.c_str(), X_OK) != 0)                   \
      GTEST_SKIP() << "tcpflow not installed at " << kTcpflow; \
  } while (0)

TEST(TcpflowHttpCompat, KeepAliveLoopbackCapturesAsTcpflow) {
  REQUIRE_TCPFLOW();
  for (const char* name : {"http_keepalive_ipv4.pcap", "http_keepalive_ipv6.pcap"}) {
    const fs::path pcap = source_dir() / "tests/data/http_keepalive" / name;
    ASSERT_TRUE(fs::exists(pcap)) << pcap;
    // 15 body files in each (tests/data/http_keepalive/README.md): a regression that drops
    // the scanner would compare equal with an empty set otherwise.
    EXPECT_TRUE(same_bodies_as_tcpflow(pcap, name, 15));
  }
}

// ---- one connection per rule ------------------------------------------------------------------

void write_rule_capture(const fs::path& path) {
  const std::string b(88, 'b');
  const std::string long_body(300, 'a');
  const std::vector<std::string> streams = {
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",  // shorter than 80 bytes
      http_response("204 No Content", {"Content-Length: 5"}) + http_ok(b) + http_ok(b),
      http_response("304 Not Modified", {"Content-Length: 5"}) + http_ok(b) + http_ok(b),
      http_response("304 Not Modified", {}) + http_response("204 No Content", {}) + http_ok(b),
      http_ok(long_body) +
          http_response("200 OK", {"Content-Length: 4", "Content-Length: 4"}, "abcd") + http_ok(b),
      http_ok(long_body) +
          http_response("200 OK", {"Content-Length: 4", "Transfer-Encoding: chunked"},
                        "4\r\nabcd\r\n0\r\n\r\n") +
          http_ok(b),
      http_ok(long_body) + http_response("200 OK", {"Content-Length: 4", "Bad header"}, "abcd") +
          http_ok(b),
      http_ok(b) + "\r\n\r\n" + http_ok(b + b, "text/css"),
      http_ok(long_body) +
          http_response("200 OK", {"Transfer-Encoding: chunked"}, "5\r\nhello\r\n") +
          http_ok("body", "text/css"),
      http_ok(long_body) + http_ok(b) +
          http_response("200 OK", {"Transfer-Encoding: chunked"}, "5\r\nhi!!!\r\n") +
          http_ok("", "text/plain") + http_response("200 OK", {"Content-Length: 0"}),
      http_response("200 OK", {"Transfer-Encoding: identity"}, long_body) + http_ok(b),
      http_response("200 OK", {"Content-Encoding: x-gzip", "Content-Length: 20"},
                    "not gzip at all!!!!!") +
          http_ok(b),
      http_response("200 OK", {"Content-Encoding: gzip", "Content-Length: 20"},
                    "not gzip at all!!!!!") +
          http_ok(b),
      http_response("101 Switching Protocols", {"Upgrade: websocket", "Connection: Upgrade"}) +
          http_ok(long_body),
  };
  TcpPcapFile file(path.string());
  ASSERT_TRUE(file.ok());
  std::vector<std::uint8_t> frame;
  std::int64_t t = 1700000000LL * 1000000;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    TcpFrameSpec c;
    c.src = {10, 0, 0, 1};
    c.dst = {10, 0, 0, 2};
    c.sport = static_cast<std::uint16_t>(40000 + i);
    c.dport = 80;
    c.seq = 1000;
    TcpFrameSpec s = c;
    std::swap(s.src, s.dst);
    std::swap(s.sport, s.dport);
    s.seq = 9000;
    auto send = [&](TcpFrameSpec& spec, std::uint8_t flags, const std::string& payload) {
      spec.flags = flags;
      build_tcp_frame(spec, std::vector<std::uint8_t>(payload.begin(), payload.end()), frame);
      file.write(t += 1000, frame);
      spec.seq += static_cast<std::uint32_t>(payload.size());
    };
    send(c, capture::tcpflow::kTcpSyn, "");
    c.seq++;
    send(s, capture::tcpflow::kTcpSyn | capture::tcpflow::kTcpAck, "");
    s.seq++;
    send(c, capture::tcpflow::kTcpAck, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    for (std::size_t at = 0; at < streams[i].size(); at += 1400) {
      send(s, capture::tcpflow::kTcpAck, streams[i].substr(at, 1400));
    }
    send(s, capture::tcpflow::kTcpFin | capture::tcpflow::kTcpAck, "");
    send(c, capture::tcpflow::kTcpFin | capture::tcpflow::kTcpAck, "");
  }
}

TEST(TcpflowHttpCompat, ParserRulesAsTcpflow) {
  REQUIRE_TCPFLOW();
  TempDir dir("rules");
  const fs::path pcap = dir / "rules.pcap";
  write_rule_capture(pcap);
  EXPECT_TRUE(same_bodies_as_tcpflow(pcap, "rules", 15));
}

}  // namespace
}  // namespace flowscope::testing
