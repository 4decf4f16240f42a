#include "capture/tcpflow/http_scanner.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
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

constexpr char kCr = '\r';
constexpr char kLf = '\n';
constexpr std::uint64_t kNoLength = ~std::uint64_t{0};

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A header name character (RFC 7230 tchar), as the parser tcpflow links accepts.
bool is_token_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if (std::isalnum(c)) return true;
  return std::strchr("!#$%&'*+-.^_`|~", ch) != nullptr && ch != '\0';
}

// A header value character: visible ASCII, tab and bytes 0x80-0xFF.
bool is_header_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return ch == '\t' || (c > 31 && c != 127);
}

// The tokens of a comma-separated header value, trimmed and lower-cased.
std::vector<std::string> tokens(std::string_view value) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= value.size()) {
    std::size_t comma = value.find(',', at);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view t = value.substr(at, comma - at);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    out.push_back(lowered(t));
    at = comma + 1;
  }
  return out;
}

// Collects one body as tcpflow writes it: raw, or inflated piece by piece when the
// Content-Encoding is exactly "gzip" or "deflate" (zlib detects gzip or zlib framing). tcpflow
// drops a piece's output where inflate reports an error (and ignores the rest of the body) or
// ends with input left over (trailing bytes), and inflates each piece only while input remains.
class BodyWriter {
 public:
  explicit BodyWriter(bool inflate) : inflate_(inflate) {}
  ~BodyWriter() {
    if (z_open_) inflateEnd(&z_);
  }
  BodyWriter(const BodyWriter&) = delete;
  BodyWriter& operator=(const BodyWriter&) = delete;

  void add(std::string_view piece) {
    if (piece.empty()) return;
    if (!inflate_) {
      out_.append(piece);
      return;
    }
    if (z_failed_) return;
    if (!z_open_) {
      std::memset(&z_, 0, sizeof z_);
      if (inflateInit2(&z_, 32 + MAX_WBITS) != Z_OK) {
        z_failed_ = true;
        return;
      }
      z_open_ = true;
    }
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    z_.avail_in = static_cast<uInt>(piece.size());
    char buf[65536];
    while (z_.avail_in > 0) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      const int rc = inflate(&z_, Z_SYNC_FLUSH);
      if (rc == Z_STREAM_END) {
        if (z_.avail_in > 0) return;
      } else if (rc != Z_OK) {
        z_failed_ = true;
        return;
      }
      out_.append(buf, sizeof buf - z_.avail_out);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  bool inflate_;
  bool z_open_ = false;
  bool z_failed_ = false;
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

// One pass of the response parser over data[start, end), as tcpflow runs a fresh parser at
// each offset (docs/tcpflow.md, "HTTP bodies"): responses are numbered from 1 in each pass.
class ResponsePass {
 public:
  enum class Stop { End, Error, Upgrade };

  ResponsePass(std::string_view data, std::size_t start, bool gunzip,
               const std::function<void(HttpBody&&)>& on_body)
      : data_(data), start_(start), at_(start), gunzip_(gunzip), on_body_(on_body) {}

  // Parses until the data ends, an error, or a protocol upgrade; returns why and sets pos().
  Stop run() {
    while (true) {
      while (at_ < data_.size() && (data_[at_] == kCr || data_[at_] == kLf)) ++at_;
      if (at_ >= data_.size()) return Stop::End;
      const auto stop = message();
      if (stop) return *stop;
    }
  }
  // Where the pass stopped: the end of the data, or the byte the parser refused.
  std::size_t pos() const { return at_; }

 private:
  // Parses one response; nullopt when it completed and the next may follow.
  std::optional<Stop> message() {
    if (data_[at_] != 'H') return Stop::Error;
    reset_response();
    ++response_no_;
    ++at_;
    if (!status_line()) return stopped();
    if (!headers()) return stopped();
    // Headers complete: tcpflow opens (truncates) the body file here.
    if (has_te_ && content_length_ != kNoLength) return Stop::Error;  // at the final LF
    at_ = headers_end_;
    const bool upgrade = upgrade_header_ && connection_upgrade_ && status_ == 101;
    const auto it_type = headers_.find("content-type");
    const auto it_enc = headers_.find("content-encoding");
    const std::string encoding = it_enc == headers_.end() ? "" : it_enc->second;
    BodyWriter writer(gunzip_ && (encoding == "gzip" || encoding == "deflate"));
    std::optional<std::size_t> body_offset;
    auto piece = [&](std::size_t from, std::size_t n) {
      if (n == 0) return;
      if (!body_offset) body_offset = from - start_;
      writer.add(data_.substr(from, n));
    };
    auto finish = [&] {
      on_body_(HttpBody{body_offset.value_or(0), response_no_,
                        std::string(extension_for_mime(
                            it_type == headers_.end() ? std::string_view{} : it_type->second)),
                        writer.take()});
    };
    const bool has_body = chunked_ || (content_length_ > 0 && content_length_ != kNoLength);
    std::optional<Stop> stop;
    if (upgrade && !has_body) {
      stop = Stop::Upgrade;
    } else if (chunked_) {
      stop = chunks(piece);
    } else if (has_te_) {
      piece(at_, data_.size() - at_);
      at_ = data_.size();
    } else if (content_length_ != kNoLength) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(content_length_, data_.size() - at_));
      piece(at_, n);
      at_ += n;
      if (n < content_length_) stop = Stop::End;  // the stream ends inside the body
      if (!stop && upgrade) stop = Stop::Upgrade;
    } else if (!(status_ / 100 == 1 || status_ == 204 || status_ == 304)) {
      piece(at_, data_.size() - at_);  // read until the connection closes
      at_ = data_.size();
    }
    finish();
    return stop;
  }

  // A stop inside the status line or headers: an error at at_, or the end of the data.
  Stop stopped() const { return at_ >= data_.size() ? Stop::End : Stop::Error; }

  // "HTTP/d.d NNN reason": the four bytes after 'H' are not checked, as in the parser's
  // non-strict build; spaces may precede the status code; the reason may be absent.
  bool status_line() {
    for (int i = 0; i < 4; ++i) {
      if (at_ >= data_.size()) return false;
      ++at_;
    }
    auto want = [&](auto pred) {
      if (at_ >= data_.size() || !pred(data_[at_])) return false;
      ++at_;
      return true;
    };
    if (!want(is_digit)) return false;
    if (!want([](char c) { return c == '.'; })) return false;
    if (!want(is_digit)) return false;
    if (!want([](char c) { return c == ' '; })) return false;
    while (at_ < data_.size() && data_[at_] == ' ') ++at_;
    if (!want(is_digit)) return false;
    status_ = data_[at_ - 1] - '0';
    while (at_ < data_.size() && is_digit(data_[at_])) {
      status_ = status_ * 10 + (data_[at_] - '0');
      if (status_ > 999) return false;
      ++at_;
    }
    if (at_ >= data_.size()) return false;
    if (data_[at_] != ' ' && data_[at_] != kCr && data_[at_] != kLf) return false;
    while (at_ < data_.size() && data_[at_] != kCr && data_[at_] != kLf) ++at_;
    return end_of_line();
  }

  // CR and the byte after it (the parser's non-strict build does not check that it is LF),
  // or a bare LF.
  bool end_of_line() {
    if (at_ >= data_.size()) return false;
    if (data_[at_] == kLf) {
      ++at_;
      return true;
    }
    at_ += 2;
    return at_ <= data_.size();
  }

  // Header fields up to the empty line; sets headers_end_ to the first body byte.
  bool headers() {
    std::string field;
    std::string value;
    bool have = false;
    auto commit = [&]() -> bool {
      if (!have) return true;
      if (!header(field, value)) return false;
      headers_[field] = value;
      have = false;
      return true;
    };
    while (true) {
      if (at_ >= data_.size()) return false;
      const char c = data_[at_];
      if (c == kCr || c == kLf) {
        if (!commit()) return false;
        const std::size_t lf = at_;
        if (!end_of_line()) return false;
        headers_end_ = at_;
        at_ = c == kCr ? lf + 1 : lf;  // errors found at headers end point at its last byte
        return true;
      }
      if ((c == ' ' || c == '\t') && have) {  // obsolete line folding continues the value
        while (at_ < data_.size() && (data_[at_] == ' ' || data_[at_] == '\t')) ++at_;
        value += ' ';
        if (!value_chars(value)) return false;
        continue;
      }
      if (!commit()) return false;
      field.clear();
      value.clear();
      while (at_ < data_.size() && data_[at_] != ':') {
        if (!is_token_char(data_[at_])) return false;
        field += lower(data_[at_]);
        ++at_;
      }
      if (at_ >= data_.size()) return false;
      ++at_;  // ':'
      while (at_ < data_.size() && (data_[at_] == ' ' || data_[at_] == '\t')) ++at_;
      if (!value_chars(value)) return false;
      have = true;
    }
  }

  // The rest of a value line, up to and including its end of line.
  bool value_chars(std::string& value) {
    while (at_ < data_.size() && data_[at_] != kCr && data_[at_] != kLf) {
      if (!is_header_char(data_[at_])) return false;
      value += data_[at_];
      ++at_;
    }
    return end_of_line();
  }

  // The headers the parser interprets; false on the values it refuses.
  bool header(const std::string& field, const std::string& value) {
    if (field == "content-length") {
      if (content_length_ != kNoLength) return false;  // a second Content-Length
      if (value.empty() || !is_digit(value.front())) return false;
      std::uint64_t n = 0;
      std::size_t i = 0;
      for (; i < value.size() && is_digit(value[i]); ++i) {
        const auto d = static_cast<std::uint64_t>(value[i] - '0');
        if (n > (kNoLength - 1 - d) / 10) return false;
        n = n * 10 + d;
      }
      for (; i < value.size(); ++i) {
        if (value[i] != ' ') return false;
      }
      content_length_ = n;
    } else if (field == "transfer-encoding") {
      has_te_ = true;
      chunked_ = tokens(value).back() == "chunked";
    } else if (field == "connection") {
      for (const auto& t : tokens(value)) {
        if (t == "upgrade") connection_upgrade_ = true;
      }
    } else if (field == "upgrade") {
      upgrade_header_ = true;
    }
    return true;
  }

  // Chunked body: "size[;ext]\r\n data\r\n" until size 0, then trailers.
  template <typename Piece>
  std::optional<Stop> chunks(Piece& piece) {
    while (true) {
      if (at_ >= data_.size()) return Stop::End;
      if (hex_value(data_[at_]) < 0) return Stop::Error;
      std::uint64_t size = 0;
      while (at_ < data_.size() && hex_value(data_[at_]) >= 0) {
        if (size > (kNoLength >> 4)) return Stop::Error;
        size = size * 16 + static_cast<std::uint64_t>(hex_value(data_[at_]));
        ++at_;
      }
      if (at_ >= data_.size()) return Stop::End;
      const char c = data_[at_];
      if (c == ';' || c == ' ') {
        while (at_ < data_.size() && data_[at_] != kCr && data_[at_] != kLf) ++at_;
      } else if (c != kCr && c != kLf) {
        return Stop::Error;
      }
      if (!end_of_line()) return Stop::End;
      if (size == 0) {
        // Trailer fields, then the empty line.
        while (true) {
          if (at_ >= data_.size()) return Stop::End;
          if (data_[at_] == kCr || data_[at_] == kLf) {
            if (!end_of_line()) return Stop::End;
            return std::nullopt;
          }
          while (at_ < data_.size() && data_[at_] != kCr && data_[at_] != kLf) ++at_;
          if (!end_of_line()) return Stop::End;
        }
      }
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(size, data_.size() - at_));
      piece(at_, n);
      at_ += n;
      if (n < size) return Stop::End;
      at_ += 2;  // the CR LF after the data (bytes not checked in the non-strict build)
      if (at_ > data_.size()) {
        at_ = data_.size();
        return Stop::End;
      }
    }
  }

  std::string_view data_;
  std::size_t start_;
  std::size_t at_;
  bool gunzip_;
  const std::function<void(HttpBody&&)>& on_body_;
  int response_no_ = 0;
  // The current response.
  int status_ = 0;
  std::size_t headers_end_ = 0;
  std::map<std::string, std::string> headers_;
  std::uint64_t content_length_ = kNoLength;
  bool has_te_ = false;
  bool chunked_ = false;
  bool connection_upgrade_ = false;
  bool upgrade_header_ = false;

  void reset_response() {
    status_ = 0;
    headers_.clear();
    content_length_ = kNoLength;
    has_te_ = chunked_ = connection_upgrade_ = upgrade_header_ = false;
  }
};

}  // namespace

std::string_view extension_for_mime(std::string_view content_type) {
  // As tcpflow: everything from the first ';' is dropped, the rest lower-cased and looked up
  // as it is (so "text/html ; charset=x", with a space, has no extension).
  const std::string t = lowered(content_type.substr(0, content_type.find(';')));
  const auto* end = std::end(kMimeExtensions);
  const auto* it = std::lower_bound(std::begin(kMimeExtensions), end, std::string_view(t),
                                    [](const auto& e, std::string_view k) { return e.first < k; });
  if (it != end && it->first == t) return it->second;
  return {};
}

bool looks_like_http_response(std::span<const std::uint8_t> stream) {
  return stream.size() >= kMinHttpStream && std::memcmp(stream.data(), "HTTP/1.", 7) == 0;
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
    if (b.content.empty()) {
      // tcpflow opens (truncates) the file when the headers end and removes it when nothing
      // was written, so an empty response also removes an earlier pass's file of that name.
      ::unlink(path.c_str());
      return;
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
  // A pass stops at the first byte its parser refuses; the next pass starts there with a fresh
  // parser (and numbering) unless the pass parsed nothing or switched protocols.
  std::size_t offset = 0;
  while (true) {
    ResponsePass pass(data, offset, gunzip, on_body);
    const auto stop = pass.run();
    if (stop != ResponsePass::Stop::Error) break;
    if (pass.pos() == offset) break;
    offset = pass.pos();
  }
}

}  // namespace flowscope::capture::tcpflow
