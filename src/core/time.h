#pragma once
// Time for flowscope: millisecond timestamps, durations, time zones and the user's time
// expressions (`-t` on the command line, the HTTP API, report schedules). Grammar and examples
// are in docs/time.md.
//
// Every parse takes a TimeContext: "now" is injected (tests use a fixed clock) and the zone that
// local times are read in is explicit, UTC or a named IANA zone; nothing reads the process's TZ.
// Functions are pure and thread-safe (the zone database is loaded once, thread-safely).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace date {
class time_zone;
}

namespace flowscope {

// Milliseconds since 1970-01-01T00:00:00Z, leap seconds not counted (as Unix time).
using TimeMs = std::chrono::sys_time<std::chrono::milliseconds>;
using DurationMs = std::chrono::milliseconds;

inline TimeMs time_from_ms(std::int64_t ms) { return TimeMs(DurationMs(ms)); }
inline std::int64_t to_ms(TimeMs t) { return t.time_since_epoch().count(); }

// UTC or a named zone of the system's IANA database (/usr/share/zoneinfo).
class TimeZoneRef {
 public:
  TimeZoneRef() = default;  // UTC
  static TimeZoneRef utc() { return {}; }
  // "UTC", "Z", an IANA name ("Europe/Brussels"), or "local" for the system's zone.
  static Result<TimeZoneRef> named(std::string_view name);

  bool is_utc() const { return zone_ == nullptr; }
  std::string name() const;
  // The offset from UTC in force at `t` (e.g. +3600 s in Brussels in winter).
  std::chrono::seconds offset_at(TimeMs t) const;
  const date::time_zone* zone() const { return zone_; }

 private:
  explicit TimeZoneRef(const date::time_zone* zone) : zone_(zone) {}
  const date::time_zone* zone_ = nullptr;
};

struct TimeContext {
  TimeMs now;
  TimeZoneRef zone;

  // The real clock, in `zone`.
  static TimeContext system(TimeZoneRef zone = TimeZoneRef::utc());
};

// A half-open interval [begin, end).
struct TimeWindow {
  TimeMs begin;
  TimeMs end;

  DurationMs length() const { return end - begin; }
  bool contains(TimeMs t) const { return begin <= t && t < end; }
  friend bool operator==(const TimeWindow&, const TimeWindow&) = default;
};

// A point in time:
//   2026-11-01T13:45:10.250+01:00   ISO 8601 (date, optional time, optional Z or offset;
//   2026-11-01 13:45                 a space may replace T; without an offset: ctx.zone)
//   2026/11/01:13                    trafMon's YYYY/MM/DD[:HH[:MM[:SS]]], also nfdump's '.'
//   1732406400  @1732406400.5        Unix epoch seconds
// A local time that does not exist (skipped by a DST change) is an error; one that exists twice
// (the repeated hour in autumn) is the earlier of the two.
Result<TimeMs> parse_time(std::string_view text, const TimeContext& ctx);

// A window:
//   15m  2h  7d  1h30m  last 1h  last 5 hours  last hour  last day  last week
//                                      the span up to now (a week = 7 days)
//   today  yesterday  this week        calendar days in ctx.zone (weeks begin on Monday)
//   A..B  A..  A-B (nfdump style, slash dates only)
//                                      from A to B, or to now; a date alone as B includes
//                                      that whole day
//   A                                  the whole unit A names: 2026-11-01 is that day,
//                                      2026/11/01:13 that hour
// Errors name the position of the offending character.
Result<TimeWindow> parse_window(std::string_view text, const TimeContext& ctx);

// The longest duration parse_duration accepts (100 years); longer ones are OutOfRange errors.
inline constexpr DurationMs kMaxDuration = std::chrono::days(36'500);
// "90s", "15m", "1h30m", "7d", "2w", "250ms", also "5 minutes", "1 hour".
Result<DurationMs> parse_duration(std::string_view text);

// ISO 8601 in `zone`: "2026-11-24T05:06:17.123Z", "2026-11-24T06:06:17.123+01:00"; the
// milliseconds are left out when zero.
std::string format_time(TimeMs t, const TimeZoneRef& zone = {});
// "2026-11-17T05:06:17Z .. 2026-11-24T05:06:17Z"
std::string format_window(const TimeWindow& w, const TimeZoneRef& zone = {});
// "1h30m", "7d", "250ms"
std::string format_duration(DurationMs d);

}  // namespace flowscope
