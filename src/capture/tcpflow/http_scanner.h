#pragma once
// tcpflow's `-e http` scanner: a server-to-client stream that starts with "HTTP/1." is parsed as
// a sequence of responses (status line, headers, body by Content-Length, chunked encoding, or up
// to the end of the stream; none for 1xx, 204 and 304). Each non-empty body is written to
// `<flow file>-HTTPBODY-<nnn>[.<ext>]`, nnn counting responses from 001 and ext chosen from the
// Content-Type, gunzipped (zlib) when Content-Encoding is gzip unless disabled (-Z), exactly as
// tcpflow 1.6.1 names and fills them.
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

struct HttpBodyFile {
  std::uint64_t stream_offset = 0;  // where the body starts in the flow file
  std::string path;
  std::uint64_t size = 0;  // bytes written (after gunzip)
};

// Whether the scanner applies (the stream starts with "HTTP/1.").
bool looks_like_http_response(std::span<const std::uint8_t> stream);

// One response body as the scanner extracts it (pure: nothing written).
struct HttpBody {
  std::uint64_t stream_offset = 0;
  int response_no = 0;    // 1-based
  std::string extension;  // from Content-Type, "" when unknown
  std::string content;    // de-chunked, gunzipped when asked
};
// Calls `on_body` for each body in order (one body in memory at a time).
void parse_http_bodies(std::span<const std::uint8_t> stream, bool gunzip,
                       const std::function<void(HttpBody&&)>& on_body);

// Parses `stream` and writes the body files next to `flow_path`.
std::vector<HttpBodyFile> scan_http_stream(std::span<const std::uint8_t> stream,
                                           const std::string& flow_path, bool gunzip);

// The file extension tcpflow uses for a Content-Type ("" when unknown).
std::string_view extension_for_mime(std::string_view content_type);

}  // namespace flowscope::capture::tcpflow
