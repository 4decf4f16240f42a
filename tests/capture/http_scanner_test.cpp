// The `-e http` scanner's rules (docs/tcpflow.md, "HTTP bodies"), without tcpflow: the rules of
// the HTTP parser tcpflow 1.6.1 links, which decide which body files exist, how they are
// numbered and what they hold. tcpflow_http_test.cpp checks the same against /usr/bin/tcpflow.
#include "capture/tcpflow/http_scanner.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include "capture/tcpflow_test_support.h"

namespace flowscope::capture::tcpflow {
namespace {

namespace fs = std::filesystem;
using flowscope::testing::http_ok;
using flowscope::testing::http_response;

std::vector<HttpBody> bodies(const std::string& stream, bool gunzip = true) {
  std::vector<HttpBody> out;
  parse_http_bodies({reinterpret_cast<const std::uint8_t*>(stream.data()), stream.size()}, gunzip,
                    [&](HttpBody&& b) { out.push_back(std::move(b)); });
  return out;
}

const std::string kBody(88, 'b');

std::string compress(const std::string& text, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(text.size() + 256, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(HttpScanner, StreamsShorterThan80BytesAreNotScanned) {
  const std::string tiny = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
  ASSERT_LT(tiny.size(), kMinHttpStream);
  EXPECT_TRUE(bodies(tiny).empty());
  const std::string padded =
      http_response("200 OK", {"Content-Length: 3", "Server: x" + std::string(40, 'x')}, "ok\n");
  ASSERT_GE(padded.size(), kMinHttpStream);
  ASSERT_EQ(bodies(padded).size(), 1u);
  EXPECT_EQ(bodies(padded)[0].content, "ok\n");
}

TEST(HttpScanner, NoContentAndNotModifiedTakeTheirContentLength) {
  // Without a length, 204 and 304 have no body and the next response follows.
  auto b = bodies(http_response("204 No Content", {}) + http_response("304 Not Modified", {}) +
                  http_ok(kBody));
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].content, "");
  EXPECT_EQ(b[1].content, "");
  EXPECT_EQ(b[2].response_no, 3);
  EXPECT_EQ(b[2].content, kBody);
  // With one (RFC 7230 allows it on a 304), that many bytes of what follows are its body; the
  // parser then stands inside the next response and stops.
  const std::string next = http_ok(kBody);
  b = bodies(http_response("304 Not Modified", {"Content-Length: 10"}) + next + http_ok(kBody));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].content, next.substr(0, 10));
}

TEST(HttpScanner, RefusedHeadersStopTheParser) {
  const std::string first = http_ok(std::string(300, 'a'));
  for (const std::string& bad :
       {http_response("200 OK", {"Content-Length: 4", "Content-Length: 4"}, "abcd"),
        http_response("200 OK", {"Content-Length: 4", "Transfer-Encoding: chunked"},
                      "4\r\nabcd\r\n0\r\n\r\n"),
        http_response("200 OK", {"Content-Length: 4x"}, "abcd"),
        http_response("200 OK", {"Content-Length: 4", "No colon here"}, "abcd"),
        http_response("200 OK", {"Content-Length: 4", "X: a\x01z"}, "abcd"),
        std::string("HTTP/1.1 2x0 OK\r\nContent-Length: 4\r\n\r\nabcd")}) {
    const auto b = bodies(first + bad + http_ok(kBody));
    ASSERT_EQ(b.size(), 1u) << bad;
    EXPECT_EQ(b[0].content, std::string(300, 'a'));
  }
}

TEST(HttpScanner, LineBreaksBetweenResponsesAreSkipped) {
  const auto b = bodies(http_ok(kBody) + "\r\n\r\n" + http_ok(kBody + kBody, "text/css"));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].response_no, 2);
  EXPECT_EQ(b[1].extension, "css");
  EXPECT_EQ(b[1].content.size(), 176u);
}

TEST(HttpScanner, ANewParserStartsAtTheRefusedByteAndCountsFromOne) {
  // A chunked body cut short: the chunk size parser refuses the 'H' of the next response, so a
  // second pass starts there, numbering from 1 again (tcpflow then rewrites -HTTPBODY-001).
  const std::string first = http_ok(std::string(300, 'a'));
  const std::string cut = http_response("200 OK", {"Transfer-Encoding: chunked"}, "5\r\nhello\r\n");
  const std::string after = http_ok("body", "text/css");
  const auto b = bodies(first + cut + after);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].response_no, 1);
  EXPECT_EQ(b[1].response_no, 2);
  EXPECT_EQ(b[1].content, "hello");
  EXPECT_EQ(b[2].response_no, 1);
  EXPECT_EQ(b[2].content, "body");
  EXPECT_EQ(b[2].stream_offset, after.size() - 4);  // from the start of the second pass
}

TEST(HttpScanner, OnlyGzipAndDeflateAreInflatedAsSpelled) {
  const std::string text(2000, 't');
  const std::string gz = compress(text, 16 + MAX_WBITS);
  const std::string zl = compress(text, MAX_WBITS);
  auto with = [&](const std::string& encoding, const std::string& body) {
    return http_response(
        "200 OK",
        {"Content-Encoding: " + encoding, "Content-Length: " + std::to_string(body.size())}, body);
  };
  const auto b = bodies(with("gzip", gz) + with("deflate", zl) + with("x-gzip", gz) +
                        with("GZIP", gz) + with("deflate", gz));
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[0].content, text);
  EXPECT_EQ(b[1].content, text);
  EXPECT_EQ(b[2].content, gz);  // tcpflow compares the value as it is
  EXPECT_EQ(b[3].content, gz);
  EXPECT_EQ(b[4].content, text);  // zlib detects the gzip header either way
  // -Z: nothing inflated.
  EXPECT_EQ(bodies(with("gzip", gz), false)[0].content, gz);
}

TEST(HttpScanner, BytesAfterTheGzipStreamLoseThatPiece) {
  // The inflater reaches the end of the stream with input left: tcpflow drops that piece's
  // output, so this body is empty (and its file removed).
  const std::string gz = compress(std::string(500, 'g'), 16 + MAX_WBITS) + "TRAILING";
  const auto b =
      bodies(http_response(
                 "200 OK",
                 {"Content-Encoding: gzip", "Content-Length: " + std::to_string(gz.size())}, gz) +
             http_ok(kBody));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].content, "");
  EXPECT_EQ(b[1].content, kBody);
}

TEST(HttpScanner, EmptyBodiesRemoveTheFileOfTheirName) {
  const fs::path dir =
      fs::temp_directory_path() / ("flowscope-http-scanner-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string flow = (dir / "flow").string();
  // A file left by an earlier pass (or run) under the name an empty response gets.
  std::ofstream(flow + "-HTTPBODY-002.txt") << "stale";
  const std::string stream = http_ok(kBody) + http_ok("", "text/plain") + http_ok("", "text/plain");
  const auto files = scan_http_stream(
      {reinterpret_cast<const std::uint8_t*>(stream.data()), stream.size()}, flow, true);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, flow + "-HTTPBODY-001.txt");
  EXPECT_EQ(files[0].size, kBody.size());
  EXPECT_TRUE(fs::exists(flow + "-HTTPBODY-001.txt"));
  EXPECT_FALSE(fs::exists(flow + "-HTTPBODY-002.txt"));
  EXPECT_FALSE(fs::exists(flow + "-HTTPBODY-003.txt"));
  fs::remove_all(dir);
}

TEST(HttpScanner, TransferEncodingOtherThanChunkedReadsToTheEnd) {
  const std::string rest = "identity body" + std::string(100, 'i');
  const auto b =
      bodies(http_response("200 OK", {"Transfer-Encoding: identity"}, rest) + http_ok(kBody));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].content, rest + http_ok(kBody));
  // "gzip, chunked" ends with chunked: chunks.
  const auto c = bodies(http_response("200 OK", {"Transfer-Encoding: gzip, chunked"},
                                      "5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n") +
                        http_ok(kBody));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].content, "hello");
  EXPECT_EQ(c[1].content, kBody);
}

TEST(HttpScanner, SwitchingProtocolsEndsTheScan) {
  const auto b = bodies(
      http_response("101 Switching Protocols", {"Upgrade: websocket", "Connection: Upgrade"}) +
      http_ok(kBody));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].content, "");
}

}  // namespace
}  // namespace flowscope::capture::tcpflow
