#include "core/log.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <span>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

namespace flowscope {
namespace {

std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::warn;
LogFormat g_format = LogFormat::Text;

// The fields of the log_fields() call under way on this thread, for JsonFormatter (spdlog's
// loggers here are synchronous: the formatter runs on the logging thread, inside the call).
thread_local std::span<const LogField> t_fields;

// True when standard error is the journal's stream (systemd sets JOURNAL_STREAM to its
// "device:inode"; systemd.exec(5)): the journal stamps each line, so ours would be a repeat.
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

// RFC 3339 in UTC with milliseconds: 2026-12-06T09:51:23.123Z.
std::string utc_time(spdlog::log_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms.count() % 1000);
}

// "warn" for spdlog's "warning": the names --log-level takes.
std::string_view level_name(spdlog::level::level_enum level) {
  return level == spdlog::level::warn
             ? std::string_view("warn")
             : std::string_view(spdlog::level::to_string_view(level).data(),
                                spdlog::level::to_string_view(level).size());
}

std::string json_line(spdlog::log_clock::time_point time, spdlog::level::level_enum level,
                      std::string_view logger_name, std::string_view message,
                      std::span<const LogField> fields) {
  nlohmann::ordered_json j;
  j["time"] = utc_time(time);
  j["level"] = level_name(level);
  j["logger"] = logger_name;
  j["message"] = message;
  for (const LogField& f : fields) {
    if (j.contains(f.key)) continue;  // the four above stay what they are
    std::visit([&](const auto& v) { j[f.key] = v; }, f.value);
  }
  // Bytes that are not UTF-8 (a file name, a peer's string) are replaced, not refused.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string line = json_line(
        msg.time, msg.level, std::string_view(msg.logger_name.data(), msg.logger_name.size()),
        std::string_view(msg.payload.data(), msg.payload.size()), t_fields);
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// Applies g_format to the registry (every logger, and the default for new ones). g_mutex held.
void apply_format() {
  if (g_format == LogFormat::Json) {
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  } else if (stderr_is_journal()) {
    spdlog::set_pattern("%l [%n] %v");
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  }
}

}  // namespace

Result<void> init_logging(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("unknown log level \"{}\"; use trace, debug, info, warn, error "
                             "or off",
                             level));
  }
  std::lock_guard lock(g_mutex);
  g_level = parsed;
  spdlog::set_level(parsed);
  apply_format();
  return ok();
}

Result<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::Text;
  if (name == "json") return LogFormat::Json;
  return Error(ErrorCode::InvalidArgument,
               fmt::format("unknown log format \"{}\"; use text or json", name));
}

void set_log_format(LogFormat format) {
  std::lock_guard lock(g_mutex);
  g_format = format;
  apply_format();
}

LogFormat log_format() {
  std::lock_guard lock(g_mutex);
  return g_format;
}

std::shared_ptr<spdlog::logger> logger(std::string_view module) {
  std::lock_guard lock(g_mutex);
  std::string name(module);
  if (auto existing = spdlog::get(name)) return existing;
  auto created = spdlog::stderr_color_mt(name);
  created->set_level(g_level);
  return created;
}

void log_fields(spdlog::logger& log, spdlog::level::level_enum level, std::string_view message,
                std::initializer_list<LogField> fields) {
  t_fields = std::span<const LogField>(fields.begin(), fields.size());
  log.log(level, "{}", message);
  t_fields = {};
}

void log_always(spdlog::level::level_enum level, std::string_view module, std::string_view text,
                std::string_view message, std::initializer_list<LogField> fields) {
  std::string line;
  if (log_format() == LogFormat::Json) {
    line = json_line(spdlog::log_clock::now(), level, module, message,
                     std::span<const LogField>(fields.begin(), fields.size()));
  } else {
    line = std::string(text) + '\n';
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace flowscope
