#pragma once
// Logging (docs/conventions.md "Logging and errors users read"): spdlog with one named logger per
// module ("decode", "store", ...), all writing to stderr so results on stdout stay clean.
// Per-packet events go to counters, not here. init_logging() and set_log_format() are called
// once by main() before threads start; loggers may then be used from any thread (spdlog's _mt
// sinks). Two formats (--log-format, docs/packaging.md "Logs"): text, "TIME level [module]
// message" (no TIME when standard error is the journal, which stamps lines itself), and json,
// one object per line with time, level, logger, message and the structured fields of
// log_fields().

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <spdlog/spdlog.h>

#include "core/result.h"

namespace flowscope {

// "trace", "debug", "info", "warn", "error", "off". The default for the CLI is "warn".
Result<void> init_logging(std::string_view level);

enum class LogFormat { Text, Json };

// "text" or "json"; InvalidArgument naming the choices otherwise.
Result<LogFormat> parse_log_format(std::string_view name);

// The format of every logger, those made already and those logger() makes later.
void set_log_format(LogFormat format);
LogFormat log_format();

// The logger of a module, created on first use with the settings of init_logging().
std::shared_ptr<spdlog::logger> logger(std::string_view module);

// A named value beside a log message: a member of its own in the json format; the text format
// leaves it out (the message says it in words).
struct LogField {
  using Value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;
  LogField(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) LogField(std::string_view k, T v)
      : key(k),
        value(std::is_signed_v<T> ? Value(static_cast<std::int64_t>(v))
                                  : Value(static_cast<std::uint64_t>(v))) {}
  std::string key;
  Value value;
};

// Logs `message` at `level` through `log`, with `fields` as members of the json object.
void log_fields(spdlog::logger& log, spdlog::level::level_enum level, std::string_view message,
                std::initializer_list<LogField> fields);

// A line written whatever the level (serve's start-up line, main's "flowscope: error: ..."):
// `text` as it is in the text format; in the json format an object with `level`, logger
// `module`, `message` and `fields`.
void log_always(spdlog::level::level_enum level, std::string_view module, std::string_view text,
                std::string_view message, std::initializer_list<LogField> fields = {});

}  // namespace flowscope
