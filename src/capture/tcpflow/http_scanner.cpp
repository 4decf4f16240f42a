#include "capture/tcpflow/http_scanner.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

namespace flowscope::capture::tcpflow {
namespace {

// Content types and the extensions tcpflow 1.6.1 gives their bodies: tcpflow uses a fixed table
// (not libmagic), observed from Debian's binary by scripts/gen-tcpflow-mime-table.py for every
// type in /etc/mime.types and common web types. Sorted by type; types missing get no extension.
constexpr std::pair<std::string_view, std::string_view> kMimeExtensions[] = {
#include "capture/tcpflow/tcpflow_mime_table.inc"
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// One line ending at LF (CR before it dropped); nullopt when the stream ends first.
std::optional<std::string_view> next_line(std::string_view data, std::size_t& at) {
  const auto nl = data.find('\n', at);
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view line = data.substr(at, nl - at);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  at = nl + 1;
  return line;
}

// Writes one body, gunzipping on the way when asked.
class BodyWriter {
 public:
  BodyWriter(bool gunzip) : gunzip_(gunzip) {}
  ~BodyWriter() {
    if (z_open_) inflateEnd(&z_);
  }
  BodyWriter(const BodyWriter&) = delete;
  BodyWriter& operator=(const BodyWriter&) = delete;

  void add(std::string_view piece) {
    if (!gunzip_) {
      out_.append(piece);
      return;
    }
    if (z_done_) return;
    if (!z_open_) {
      std::memset(&z_, 0, sizeof z_);
      if (inflateInit2(&z_, 32 + MAX_WBITS) != Z_OK) {
        z_done_ = true;
        return;
      }
      z_open_ = true;
    }
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    z_.avail_in = static_cast<uInt>(piece.size());
    char buf[65536];
    while (z_.avail_in > 0 || z_.avail_out == 0) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      out_.append(buf, sizeof buf - z_.avail_out);
      if (rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR)) {
        z_done_ = true;
        break;
      }
      if (rc == Z_BUF_ERROR && z_.avail_out != 0) break;
    }
  }
  const std::string& output() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  bool gunzip_;
  bool z_open_ = false;
  bool z_done_ = false;
  z_stream z_{};
  std::string out_;
};

bool write_file(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return done == content.size();
}

}  // namespace

std::string_view extension_for_mime(std::string_view content_type) {
  // As tcpflow: everything from the first ';' is dropped, the rest lower-cased and looked up
  // as it is (so "text/html ; charset=x", with a space, has no extension).
  std::string t(content_type.substr(0, content_type.find(';')));
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto* end = std::end(kMimeExtensions);
  const auto* it = std::lower_bound(std::begin(kMimeExtensions), end, std::string_view(t),
                                    [](const auto& e, std::string_view k) { return e.first < k; });
  if (it != end && it->first == t) return it->second;
  return {};
}

bool looks_like_http_response(std::span<const std::uint8_t> stream) {
  return stream.size() >= 7 && std::memcmp(stream.data(), "HTTP/1.", 7) == 0;
}

std::vector<HttpBodyFile> scan_http_stream(std::span<const std::uint8_t> stream,
                                           const std::string& flow_path, bool gunzip) {
  std::vector<HttpBodyFile> files;
  parse_http_bodies(stream, gunzip, [&](HttpBody&& b) {
    std::string path = fmt::format("{}-HTTPBODY-{:03d}", flow_path, b.response_no);
    if (!b.extension.empty()) {
      path += '.';
      path += b.extension;
    }
    if (write_file(path, b.content)) {
      files.push_back(HttpBodyFile{b.stream_offset, std::move(path), b.content.size()});
    }
  });
  return files;
}

void parse_http_bodies(std::span<const std::uint8_t> stream, bool gunzip,
                       const std::function<void(HttpBody&&)>& on_body) {
  if (!looks_like_http_response(stream)) return;
  const std::string_view data(reinterpret_cast<const char*>(stream.data()), stream.size());
  std::size_t at = 0;
  int response_no = 0;
  while (at < data.size()) {
    // Status line: HTTP/1.x NNN reason
    const std::size_t start = at;
    auto status_line = next_line(data, at);
    if (!status_line || status_line->rfind("HTTP/", 0) != 0 || status_line->size() < 12) break;
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
      const char c = (*status_line)[i];
      if (c < '0' || c > '9') {
        status = -1;
        break;
      }
      status = status * 10 + (c - '0');
    }
    if (status < 0) break;
    ++response_no;
    std::optional<std::uint64_t> content_length;
    bool chunked = false;
    bool gzip = false;
    std::string_view content_type;
    bool headers_done = false;
    while (auto line = next_line(data, at)) {
      if (line->empty()) {
        headers_done = true;
        break;
      }
      const auto colon = line->find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = trim(line->substr(0, colon));
      const std::string_view value = trim(line->substr(colon + 1));
      if (iequals(name, "content-length")) {
        std::uint64_t v = 0;
        for (char c : value) {
          if (c < '0' || c > '9') break;
          v = v * 10 + static_cast<std::uint64_t>(c - '0');
        }
        content_length = v;
      } else if (iequals(name, "transfer-encoding")) {
        chunked = value.find("chunked") != std::string_view::npos ||
                  value.find("CHUNKED") != std::string_view::npos;
      } else if (iequals(name, "content-encoding")) {
        gzip = iequals(value, "gzip") || iequals(value, "x-gzip");
      } else if (iequals(name, "content-type")) {
        content_type = value;
      }
    }
    if (!headers_done) break;
    (void)start;

    BodyWriter writer(gzip && gunzip);
    std::uint64_t body_offset = 0;
    bool has_body = false;
    auto emit = [&](std::size_t from, std::size_t n) {
      if (n == 0) return;
      if (!has_body) {
        has_body = true;
        body_offset = from;
      }
      writer.add(data.substr(from, n));
    };
    bool complete = true;
    const bool no_body = (status >= 100 && status < 200) || status == 204 || status == 304;
    if (no_body) {
      // nothing
    } else if (chunked) {
      complete = false;
      while (auto size_line = next_line(data, at)) {
        std::uint64_t size = 0;
        bool any = false;
        for (char c : *size_line) {
          int v;
          if (c >= '0' && c <= '9')
            v = c - '0';
          else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
          else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
          else
            break;
          size = size * 16 + static_cast<std::uint64_t>(v);
          any = true;
        }
        if (!any) break;
        if (size == 0) {
          while (auto trailer = next_line(data, at)) {
            if (trailer->empty()) break;
          }
          complete = true;
          break;
        }
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(size, data.size() - at));
        emit(at, n);
        at += n;
        if (n < size) break;
        if (!next_line(data, at)) break;  // the CRLF after the chunk
      }
    } else if (content_length) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(*content_length, data.size() - at));
      emit(at, n);
      at += n;
      complete = n == *content_length;
    } else {
      emit(at, data.size() - at);
      at = data.size();
    }
    if (has_body) {
      on_body(HttpBody{body_offset, response_no, std::string(extension_for_mime(content_type)),
                       writer.take()});
    }
    if (!complete) break;
  }
}

}  // namespace flowscope::capture::tcpflow
