#include "store/partition.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace flowscope::store {

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Raw: return "raw";
    case Level::Minute: return "1m";
    case Level::Hour: return "1h";
    case Level::Day: return "1d";
  }
  return "?";
}

std::optional<Level> parse_level(std::string_view name) {
  for (Level l : kLevels) {
    if (level_name(l) == name) return l;
  }
  return std::nullopt;
}

std::int64_t partition_span_ms(Level level) { return level == Level::Raw ? kHourMs : kDayMs; }

std::int64_t bucket_ms(Level level) {
  switch (level) {
    case Level::Raw: return 0;
    case Level::Minute: return kMinuteMs;
    case Level::Hour: return kHourMs;
    case Level::Day: return kDayMs;
  }
  return 0;
}

std::int64_t floor_to(std::int64_t t, std::int64_t span) {
  std::int64_t r = t % span;
  if (r < 0) r += span;
  return t - r;
}

std::string partition_name(Level level, std::int64_t t) {
  using namespace std::chrono;
  const std::int64_t start = floor_to(t, partition_span_ms(level));
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(start)));
  const year_month_day ymd(day);
  const std::string date =
      fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  if (level != Level::Raw) return date;
  const std::int64_t hour = (start - floor_to(start, kDayMs)) / kHourMs;
  return fmt::format("{}T{:02}", date, hour);
}

std::optional<std::int64_t> parse_partition_name(Level level, std::string_view name) {
  using namespace std::chrono;
  int y = 0, hour = 0;
  unsigned m = 0, d = 0;
  int consumed = 0;
  const std::string text(name);
  if (level == Level::Raw) {
    if (std::sscanf(text.c_str(), "%4d-%2u-%2uT%2d%n", &y, &m, &d, &hour, &consumed) != 4) {
      return std::nullopt;
    }
  } else if (std::sscanf(text.c_str(), "%4d-%2u-%2u%n", &y, &m, &d, &consumed) != 3) {
    return std::nullopt;
  }
  const year_month_day ymd{year(y), month(m), day(d)};
  if (static_cast<std::size_t>(consumed) != text.size() || !ymd.ok() || hour < 0 || hour > 23) {
    return std::nullopt;
  }
  const std::int64_t start =
      duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count() + hour * kHourMs;
  // Only the canonical spelling names a partition (no "2026-1-2").
  if (partition_name(level, start) != name) return std::nullopt;
  return start;
}

}  // namespace flowscope::store
