#include "query/raw_retention.h"

#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace flowscope::query {

namespace {
constexpr std::int64_t kNoBegin = std::numeric_limits<std::int64_t>::min();
}  // namespace

std::optional<MissingRange> raw_retention_gap(std::int64_t begin_ms, std::int64_t now_ms,
                                              std::int64_t raw_keep_ms, std::string_view source) {
  if (raw_keep_ms <= 0 || source.find("raw") == std::string_view::npos) return std::nullopt;
  const std::int64_t kept_from = now_ms - raw_keep_ms;
  if (begin_ms >= kept_from) return std::nullopt;
  return MissingRange{begin_ms, kept_from, raw_keep_ms};
}

nlohmann::json missing_json(const MissingRange& missing, const TimeZoneRef& zone) {
  nlohmann::json j = nlohmann::json::object();
  if (missing.from_ms == kNoBegin) {
    j["from"] = nullptr;
    j["from_ms"] = nullptr;
  } else {
    j["from"] = format_time(time_from_ms(missing.from_ms), zone);
    j["from_ms"] = missing.from_ms;
  }
  j["to"] = format_time(time_from_ms(missing.to_ms), zone);
  j["to_ms"] = missing.to_ms;
  j["reason"] = "raw_retention";
  j["keep_raw"] = format_duration(DurationMs(missing.keep_ms));
  return j;
}

std::string missing_note(const MissingRange& missing, const TimeZoneRef& zone) {
  return missing_note(missing_json(missing, zone));
}

std::string missing_note(const nlohmann::json& missing) {
  auto text = [&](const char* key, const char* absent) {
    const auto it = missing.find(key);
    return it != missing.end() && it->is_string() ? it->get<std::string>() : std::string(absent);
  };
  return fmt::format(
      "note: raw sessions older than {} are dropped (store.json keep raw): this answer lacks "
      "those from {} to {}; only rollups cover that part",
      text("keep_raw", "?"), text("from", "the start"), text("to", "?"));
}

}  // namespace flowscope::query
