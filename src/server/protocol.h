#pragma once
// The query protocol's framing (docs/protocol.md): over one TCP connection, frames of
//   u32 length (big-endian, of what follows, at most kMaxFrame) | u8 type | payload
// where the payload is one UTF-8 JSON object. The first frames are Hello (version check) and
// Login; then Requests, each answered by a stream of Header, Rows... and one Done or Error,
// which a Cancel from the client cuts short.
//
// Functions on a connected socket or a Transport (plain TCP or TLS, server/transport.h); one
// thread reads and one writes a given connection at a time.
// Internal to flowscope_server: other modules use its public headers.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "server/transport.h"

namespace flowscope::server {

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::string_view kProtocolMagic = "flowscope";
inline constexpr std::uint32_t kMaxFrame = 16u << 20;
inline constexpr std::uint16_t kDefaultQueryPort = 9640;

enum class FrameType : std::uint8_t {
  Hello = 1,    // C->S {magic, version, client}
  HelloOk = 2,  // S->C {version, server}
  Login = 3,    // C->S {user, password, want_key} or {key}
  LoginOk = 4,  // S->C {user, role, key?}
  Request = 5,  // C->S {id, kind, ...}
  Header = 6,   // S->C {id, columns: [names]}
  Rows = 7,     // S->C {id, rows: [[values]]}
  Done = 8,     // S->C {id, rows, elapsed_ms, cancelled, ...}
  Error = 9,    // S->C {id?, code, message}
  Cancel = 10,  // C->S {id}
  Bye = 11,     // C->S {} : the client is done
};

std::string_view frame_type_name(FrameType type);

struct Frame {
  FrameType type = FrameType::Error;
  nlohmann::json body;
};

// Fields of a frame body read without trusting their types: a value of another type reads as
// the fallback (nlohmann's value() would throw on a client's {"user": 5}).
std::string text_field(const nlohmann::json& body, std::string_view key,
                       std::string_view fallback = {});
std::uint64_t uint_field(const nlohmann::json& body, std::string_view key,
                         std::uint64_t fallback = 0);
bool bool_field(const nlohmann::json& body, std::string_view key, bool fallback = false);

// Decodes one whole frame (header and payload) from bytes: the parser read_frame uses, exposed
// for the fuzzer. Errors as read_frame's.
Result<Frame> decode_frame(std::span<const std::byte> bytes);

Result<void> write_frame(Transport& conn, FrameType type, const nlohmann::json& body);
// Waits up to `timeout` for a frame (nullopt timeout: forever). Errors: the peer closed the
// connection (ErrorCode::Truncated), a frame over kMaxFrame or not JSON (Malformed), the timeout
// (Io, "timed out").
Result<Frame> read_frame(Transport& conn, std::optional<std::chrono::milliseconds> timeout);
// True when a frame (or EOF) is waiting to be read, without blocking.
bool frame_waiting(Transport& conn);

// The same on a plain TCP socket.
Result<void> write_frame(int fd, FrameType type, const nlohmann::json& body);
Result<Frame> read_frame(int fd, std::optional<std::chrono::milliseconds> timeout);

// "HOST", "HOST:PORT", "[V6]:PORT", "V6" -> host and port (default_port when absent).
Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text,
                                                              std::uint16_t default_port);

}  // namespace flowscope::server
