#pragma once
// The built-in scheduler's configuration and clock arithmetic (docs/reports.md "Scheduler"):
// `[[schedule]]` entries of the `flowscope serve` configuration file, each a job with a name, a
// cron-like `when` and the flowscope subcommand it runs (reports, retention, IP-info refresh,
// rollup maintenance, anything). trafMon drove the same jobs from a crontab; here no cron.
//
// CronWhen and parse_schedule are pure: any thread. The Scheduler (report/scheduler.h) decides
// what is due.

#include <bitset>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace flowscope::report {

// Five fields, "MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK", each `*`, `N`, `N-M`, `*/S`, `N-M/S`
// or a list of these joined by ','; months and weekdays also by name (jan, mon); Sunday is 0 or
// 7. Or a shorthand: @hourly, @daily (@midnight), @weekly (Monday 00:00, trafMon's week),
// @monthly, @yearly. As cron, when both day fields are restricted a day matches either.
class CronWhen {
 public:
  // Errors name the field and what it may be.
  static Result<CronWhen> parse(std::string_view text);
  // The first minute strictly after `after` that matches, in `zone` local time; searches up to
  // five years ahead (a `when` such as "0 0 31 2 *" never matches: TimeMs::max()).
  TimeMs next_after(TimeMs after, const TimeZoneRef& zone) const;
  // The last matching minute at or before `at` and after `floor` (exclusive), or nullopt.
  std::optional<TimeMs> last_at_or_before(TimeMs at, TimeMs floor, const TimeZoneRef& zone) const;
  const std::string& text() const { return text_; }

 private:
  bool matches_local(std::int64_t local_minute_epoch) const;
  bool day_matches(std::int64_t local_day_epoch) const;
  std::string text_;
  std::bitset<60> minute_;
  std::bitset<24> hour_;
  std::bitset<32> dom_;    // 1..31
  std::bitset<13> month_;  // 1..12
  std::bitset<7> dow_;     // 0 = Sunday
  bool dom_any_ = true;
  bool dow_any_ = true;
};

struct ScheduleJob {
  std::string name;
  CronWhen when;
  // The flowscope subcommand and its arguments, "{datadir}" replaced by the store's directory
  // and "{date}" by the run's due date (YYYY-MM-DD).
  std::vector<std::string> command;
  std::string kind;      // report, retention, ipinfo, rollup or command (for logs and `list`)
  bool catch_up = true;  // run once at start when a due time passed while down
  // The zone `when` is read in (`zone = "Europe/Brussels"`); none: the scheduler's (UTC).
  std::optional<TimeZoneRef> zone;
  std::size_t line = 0;  // in the configuration file
};

// The `[[schedule]]` entries of a serve configuration (TOML), with keys `name` (unique; letters,
// digits, '-', '_'), `when`, and either `command` (a string split like a shell's words, quotes
// kept together, or an array of strings) or a preset `job`: "retention" (store retention
// -d {datadir}), "ipinfo" (ipinfo refresh -d {datadir}; `all = true` adds --all), and optional
// `catch_up` (default true) and `zone` (an IANA name or "local": `when` is that zone's wall clock,
// daylight saving included; default UTC). Errors say "FILE:LINE: ..." and the fix.
Result<std::vector<ScheduleJob>> parse_schedule(std::string_view toml_text,
                                                std::string_view source);

// A command string as words: spaces separate, '...' and "..." group, backslash escapes.
Result<std::vector<std::string>> split_words(std::string_view text);

// The job's command with {datadir} and {date} filled in.
std::vector<std::string> expand_command(const ScheduleJob& job, const std::string& datadir,
                                        TimeMs due, const TimeZoneRef& zone);

}  // namespace flowscope::report
