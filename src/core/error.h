#pragma once
// Error values for the data paths (docs/conventions.md "Errors"): a code from one X-macro list, a
// message a user can act on, and the position in the input where there is one. Plain values; any
// thread.
// Internal to flowscope_core: other modules use its public headers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowscope {

// M(Name, "description"). Codes are stable: they appear in counters, logs and the query protocol.
#define FLOWSCOPE_ERROR_CODES(M)                                          \
  M(InvalidArgument, "a value given by the user is not valid")            \
  M(Parse, "text does not follow the expected syntax")                    \
  M(OutOfRange, "a value lies outside its allowed range")                 \
  M(Truncated, "input ends before a structure it announced")              \
  M(Malformed, "input contradicts the format's rules")                    \
  M(Unsupported, "input uses a version or feature that is not supported") \
  M(NotFound, "a named thing does not exist")                             \
  M(Io, "an operating system call failed")                                \
  M(Corruption, "stored data failed a checksum or consistency check")     \
  M(Cancelled, "the operation was cancelled by its caller")

enum class ErrorCode : std::uint8_t {
#define FLOWSCOPE_ERROR_ENUM(name, desc) name,
  FLOWSCOPE_ERROR_CODES(FLOWSCOPE_ERROR_ENUM)
#undef FLOWSCOPE_ERROR_ENUM
};

std::string_view error_code_name(ErrorCode code);
std::string_view error_code_description(ErrorCode code);

// Where in a one-line input (a filter, a time expression) or a file the error is.
// `offset` is 0-based in bytes; `line` is 1-based, 0 when the input has no lines.
struct SourcePos {
  std::size_t offset = 0;
  std::size_t line = 0;
  friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

struct Error {
  ErrorCode code = ErrorCode::InvalidArgument;
  std::string message;
  std::optional<SourcePos> where;

  Error() = default;
  Error(ErrorCode c, std::string msg) : code(c), message(std::move(msg)) {}
  Error(ErrorCode c, std::string msg, SourcePos pos)
      : code(c), message(std::move(msg)), where(pos) {}
};

// Renders an error in a one-line input for a terminal, the input echoed and a caret under the
// position:
//   time: month 13 is out of range (1-12)
//     2026-13-01
//          ^
// `what` names the input ("time", "filter"). Without a position only the first line is written.
std::string render_error(std::string_view what, std::string_view input, const Error& error);

}  // namespace flowscope
