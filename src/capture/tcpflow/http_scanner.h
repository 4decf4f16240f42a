#pragma once
// tcpflow's `-e http` scanner: a server-to-client stream of at least 80 bytes that starts with
// "HTTP/1." is parsed as a sequence of responses with the rules of the HTTP parser tcpflow 1.6.1
// links (Debian's libhttp-parser 2.9.4, non-strict build), listed in docs/tcpflow.md ("HTTP
// bodies"): body by Transfer-Encoding chunked, Content-Length (also on 1xx, 204 and 304), up to
// the end of the stream, or none; a response the parser refuses stops the pass, and a new pass
// (numbering from 001 again) starts at the refused byte. Each response whose headers end is
// written to `<flow file>-HTTPBODY-<nnn>[.<ext>]` (ext from the Content-Type), inflated when the
// Content-Encoding is exactly gzip or deflate unless disabled (-Z); a file that ends up empty is
// removed, exactly as tcpflow 1.6.1 names, fills and removes them.
//
// Pure function apart from the files it writes; any thread.
// Internal to flowscope_tcpflow: other modules use its public headers.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flowscope::capture::tcpflow {

// Streams shorter than this are not scanned (tcpflow's MIN_HTTP_BUFSIZE).
inline constexpr std::size_t kMinHttpStream = 80;

struct HttpBodyFile {
  std::uint64_t stream_offset = 0;  // where the body starts, from the start of its pass
  std::string path;
  std::uint64_t size = 0;  // bytes written (after gunzip)
};

// Whether the scanner applies (at least kMinHttpStream bytes, starting with "HTTP/1.").
bool looks_like_http_response(std::span<const std::uint8_t> stream);

// One response as the scanner extracts it (pure: nothing written). Called for every response
// whose headers ended, also those without a body (content empty: tcpflow removes the file).
struct HttpBody {
  std::uint64_t stream_offset = 0;  // first body byte, from the start of the parser's pass
  int response_no = 0;              // 1-based within the pass
  std::string extension;            // from Content-Type, "" when unknown
  std::string content;              // de-chunked, inflated when asked
};
// Calls `on_body` for each response in order (one body in memory at a time).
void parse_http_bodies(std::span<const std::uint8_t> stream, bool gunzip,
                       const std::function<void(HttpBody&&)>& on_body);

// Parses `stream` and writes the body files next to `flow_path`.
std::vector<HttpBodyFile> scan_http_stream(std::span<const std::uint8_t> stream,
                                           const std::string& flow_path, bool gunzip);

// The file extension tcpflow uses for a Content-Type ("" when unknown).
std::string_view extension_for_mime(std::string_view content_type);

}  // namespace flowscope::capture::tcpflow
