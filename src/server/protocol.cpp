#include "server/protocol.h"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

namespace flowscope::server {
std::string_view frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::Hello: return "hello";
    case FrameType::HelloOk: return "hello_ok";
    case FrameType::Login: return "login";
    case FrameType::LoginOk: return "login_ok";
    case FrameType::Request: return "request";
    case FrameType::Header: return "header";
    case FrameType::Rows: return "rows";
    case FrameType::Done: return "done";
    case FrameType::Error: return "error";
    case FrameType::Cancel: return "cancel";
    case FrameType::Bye: return "bye";
  }
  return "unknown";
}

Result<void> write_frame(Transport& conn, FrameType type, const nlohmann::json& body) {
  const std::string payload = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (payload.size() + 1 > kMaxFrame) {
    return Error{ErrorCode::OutOfRange, "frame larger than 16 MiB"};
  }
  const std::uint32_t len = static_cast<std::uint32_t>(payload.size() + 1);
  std::string frame;
  frame.reserve(payload.size() + 5);
  frame.push_back(static_cast<char>(len >> 24));
  frame.push_back(static_cast<char>(len >> 16));
  frame.push_back(static_cast<char>(len >> 8));
  frame.push_back(static_cast<char>(len));
  frame.push_back(static_cast<char>(type));
  frame += payload;
  return conn.write_all(frame.data(), frame.size());
}

Result<void> write_frame(int fd, FrameType type, const nlohmann::json& body) {
  Transport plain(fd);
  return write_frame(plain, type, body);
}

namespace {

// The 5-byte header: the length of type + payload, then the type. The length is checked on its
// own first: a length of 0 has no type byte after it, so a reader waiting for a fifth byte would
// hang on it (docs/protocol.md: it ends the connection); and a hostile length must not make us
// allocate 4 GiB.
Result<std::uint32_t> check_length(const unsigned char* head) {
  const std::uint32_t len = (std::uint32_t{head[0]} << 24) | (std::uint32_t{head[1]} << 16) |
                            (std::uint32_t{head[2]} << 8) | std::uint32_t{head[3]};
  if (len < 1 || len > kMaxFrame) {
    return Error{
        ErrorCode::Malformed,
        fmt::format("frame length {} outside 1..{}: not a flowscope peer?", len, kMaxFrame)};
  }
  return len;
}

Result<void> check_type(std::uint8_t type) {
  if (type < 1 || type > static_cast<std::uint8_t>(FrameType::Bye)) {
    return Error{ErrorCode::Malformed, fmt::format("unknown frame type {}", type)};
  }
  return {};
}

Result<std::uint32_t> check_header(const unsigned char* head) {
  auto len = check_length(head);
  if (!len) return len.error();
  if (auto t = check_type(head[4]); !t) return t.error();
  return len;
}

Result<Frame> parse_payload(std::uint8_t type, std::string_view payload) {
  Frame f;
  f.type = static_cast<FrameType>(type);
  f.body = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (f.body.is_discarded() || !f.body.is_object()) {
    return Error{ErrorCode::Malformed,
                 fmt::format("{} frame payload is not a JSON object", frame_type_name(f.type))};
  }
  return f;
}

}  // namespace

std::string text_field(const nlohmann::json& body, std::string_view key,
                       std::string_view fallback) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) return std::string(fallback);
  return it->get<std::string>();
}

std::uint64_t uint_field(const nlohmann::json& body, std::string_view key, std::uint64_t fallback) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_number_integer()) return fallback;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  const std::int64_t v = it->get<std::int64_t>();
  return v < 0 ? fallback : static_cast<std::uint64_t>(v);
}

bool bool_field(const nlohmann::json& body, std::string_view key, bool fallback) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

Result<Frame> decode_frame(std::span<const std::byte> bytes) {
  if (bytes.size() < 5) return Error{ErrorCode::Truncated, "frame shorter than its 5-byte header"};
  const auto* head = reinterpret_cast<const unsigned char*>(bytes.data());
  auto len = check_header(head);
  if (!len) return len.error();
  if (bytes.size() - 4 != *len) {
    return Error{
        ErrorCode::Malformed,
        fmt::format("frame length {} differs from the {} bytes given", *len, bytes.size() - 4)};
  }
  return parse_payload(head[4],
                       std::string_view(reinterpret_cast<const char*>(head + 5), bytes.size() - 5));
}

Result<Frame> read_frame(Transport& conn, std::optional<std::chrono::milliseconds> timeout) {
  Deadline deadline;
  if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;
  unsigned char head[5];
  if (auto r = conn.read_all(reinterpret_cast<char*>(head), 4, deadline); !r) return r.error();
  auto len = check_length(head);
  if (!len) return len.error();
  if (auto r = conn.read_all(reinterpret_cast<char*>(head + 4), 1, deadline); !r) {
    return r.error();
  }
  if (auto t = check_type(head[4]); !t) return t.error();
  std::string payload(*len - 1, '\0');
  if (auto r = conn.read_all(payload.data(), payload.size(), deadline); !r) return r.error();
  return parse_payload(head[4], payload);
}

Result<Frame> read_frame(int fd, std::optional<std::chrono::milliseconds> timeout) {
  Transport plain(fd);
  return read_frame(plain, timeout);
}

bool frame_waiting(Transport& conn) { return conn.readable_now(); }

Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text,
                                                              std::uint16_t default_port) {
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return Error{ErrorCode::Parse,
                   fmt::format("\"{}\": missing ']' after the IPv6 address", text)};
    }
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        return Error{ErrorCode::Parse, fmt::format("\"{}\": expected :PORT after ']'", text)};
      }
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  std::uint16_t p = default_port;
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("\"{}\": port must be 1 to 65535, e.g. localhost:9640", text)};
    }
    p = static_cast<std::uint16_t>(value);
  }
  if (host.empty()) host = "localhost";
  return std::pair<std::string, std::uint16_t>(std::string(host), p);
}

}  // namespace flowscope::server
