#include "core/time.h"

#include <array>
#include <cctype>
#include <limits>
#include <optional>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace flowscope {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using LocalMs = date::local_time<milliseconds>;

enum class Precision { Day, Hour, Minute, Second, Milli };

// An absolute time as parsed, before it is turned into a window.
struct Parsed {
  TimeMs instant;
  Precision precision;
  std::optional<LocalMs> local;  // set when read in ctx.zone (no offset given)
};

Error err(ErrorCode code, std::string msg, std::size_t offset) {
  return Error(code, std::move(msg), SourcePos{offset, 0});
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A cursor over a slice of the user's text; positions it reports are in the whole text.
class Cursor {
 public:
  Cursor(std::string_view text, std::size_t base) : text_(text), base_(base) {}
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  std::size_t pos() const { return base_ + pos_; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Exactly `n` digits, or nullopt (nothing consumed).
  std::optional<int> fixed(std::size_t n) {
    if (text_.size() - pos_ < n) return std::nullopt;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_digit(text_[pos_ + i])) return std::nullopt;
      v = v * 10 + (text_[pos_ + i] - '0');
    }
    pos_ += n;
    return v;
  }
  std::string_view rest() const { return text_.substr(std::min(pos_, text_.size())); }

 private:
  std::string_view text_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

std::string hhmm(seconds since_midnight) {
  auto s = since_midnight.count();
  s = ((s % 86400) + 86400) % 86400;
  return fmt::format("{:02}:{:02}", s / 3600, s / 60 % 60);
}

// Local time in `zone` to an instant. A time skipped by a DST change is an error (strict) or the
// instant of the change (lenient, for computed boundaries such as midnight); a repeated time is
// the earlier instant.
Result<TimeMs> to_instant(LocalMs local, const TimeZoneRef& zone, bool strict, std::size_t offset) {
  if (zone.is_utc()) return TimeMs(local.time_since_epoch());
  date::local_info info = zone.zone()->get_info(floor<seconds>(local));
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous: return TimeMs(local.time_since_epoch() - info.first.offset);
    case date::local_info::nonexistent:
    default: {
      auto change = info.second.begin;  // sys time of the DST change
      if (!strict) return TimeMs(floor<milliseconds>(change.time_since_epoch()));
      auto before = (change.time_since_epoch() + info.first.offset) % days(1);
      auto after = (change.time_since_epoch() + info.second.offset) % days(1);
      return err(ErrorCode::OutOfRange,
                 fmt::format("this local time does not exist in {}: clocks jump from {} to {} "
                             "that day; give a time after {} or an explicit offset (+hh:mm)",
                             zone.name(), hhmm(before), hhmm(after), hhmm(after)),
                 offset);
    }
  }
}

Result<int> component(Cursor& c, std::size_t n, int lo, int hi, const char* what) {
  std::size_t at = c.pos();
  auto v = c.fixed(n);
  if (!v) return err(ErrorCode::Parse, fmt::format("expected {} digits for the {}", n, what), at);
  if (*v < lo || *v > hi) {
    return err(ErrorCode::OutOfRange,
               fmt::format("{} {} is out of range ({}-{})", what, *v, lo, hi), at);
  }
  return *v;
}

// Reads YYYY<sep>MM<sep>DD and checks the day exists.
Result<date::year_month_day> read_date(Cursor& c, char sep) {
  auto y = component(c, 4, 1970, 9999, "year");
  if (!y) return y.error();
  if (!c.eat(sep))
    return err(ErrorCode::Parse, fmt::format("expected '{}' after the year", sep), c.pos());
  auto m = component(c, 2, 1, 12, "month");
  if (!m) return m.error();
  if (!c.eat(sep))
    return err(ErrorCode::Parse, fmt::format("expected '{}' after the month", sep), c.pos());
  std::size_t day_at = c.pos();
  auto d = component(c, 2, 1, 31, "day");
  if (!d) return d.error();
  date::year_month_day ymd{date::year(*y), date::month(static_cast<unsigned>(*m)),
                           date::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) {
    return err(ErrorCode::OutOfRange,
               fmt::format("day {} does not exist in {:04}-{:02}", *d, *y, *m), day_at);
  }
  return ymd;
}

// [HH[:MM[:SS[.fff]]]] after a date; the hour is required when `need_hour`.
Result<milliseconds> read_clock(Cursor& c, Precision& precision, bool allow_fraction) {
  auto h = component(c, 2, 0, 23, "hour");
  if (!h) return h.error();
  milliseconds t = hours(*h);
  precision = Precision::Hour;
  if (!c.eat(':')) return t;
  auto m = component(c, 2, 0, 59, "minute");
  if (!m) return m.error();
  t += minutes(*m);
  precision = Precision::Minute;
  if (!c.eat(':')) return t;
  auto s = component(c, 2, 0, 59, "second");
  if (!s) return s.error();
  t += seconds(*s);
  precision = Precision::Second;
  if (allow_fraction && (c.peek() == '.' || c.peek() == ',')) {
    c.eat(c.peek());
    std::size_t at = c.pos();
    int ms = 0, ndigits = 0;
    while (is_digit(c.peek())) {
      if (ndigits < 3) ms = ms * 10 + (c.peek() - '0');
      ++ndigits;
      c.eat(c.peek());
    }
    if (ndigits == 0) return err(ErrorCode::Parse, "expected digits after the decimal point", at);
    for (int i = ndigits; i < 3; ++i) ms *= 10;
    t += milliseconds(ms);
    precision = Precision::Milli;
  }
  return t;
}

Result<Parsed> parse_epoch(std::string_view text, std::size_t base) {
  Cursor c(text, base);
  c.eat('@');
  std::int64_t secs = 0;
  std::size_t digits_at = c.pos();
  int n = 0;
  while (is_digit(c.peek())) {
    if (secs > (std::numeric_limits<std::int64_t>::max() / 1000 - 9) / 10) {
      return err(ErrorCode::OutOfRange, "epoch seconds are too large", digits_at);
    }
    secs = secs * 10 + (c.peek() - '0');
    c.eat(c.peek());
    ++n;
  }
  if (n == 0) return err(ErrorCode::Parse, "expected epoch seconds after '@'", c.pos());
  Precision precision = Precision::Second;
  std::int64_t ms = 0;
  if (c.eat('.')) {
    int nd = 0;
    while (is_digit(c.peek())) {
      if (nd < 3) ms = ms * 10 + (c.peek() - '0');
      ++nd;
      c.eat(c.peek());
    }
    for (int i = nd; i < 3; ++i) ms *= 10;
    precision = Precision::Milli;
  }
  if (!c.done()) return err(ErrorCode::Parse, "unexpected character after epoch seconds", c.pos());
  if (secs > 253402300799) {  // 9999-12-31T23:59:59Z
    return err(ErrorCode::OutOfRange, "epoch seconds lie after the year 9999", digits_at);
  }
  return Parsed{TimeMs(milliseconds(secs * 1000 + ms)), precision, std::nullopt};
}

Result<Parsed> parse_absolute(std::string_view text, std::size_t base, const TimeContext& ctx) {
  if (text.empty()) {
    return err(ErrorCode::Parse,
               "expected a time such as 2026-11-01T13:00, 2026/11/01:13 or epoch seconds", base);
  }
  bool slash = text.size() > 4 && text[4] == '/';
  bool iso = text.size() > 4 && text[4] == '-';
  if (!slash && !iso) {
    if (text[0] == '@' || is_digit(text[0])) return parse_epoch(text, base);
    return err(ErrorCode::Parse,
               "expected a time such as 2026-11-01T13:00, 2026/11/01:13 or epoch seconds", base);
  }
  Cursor c(text, base);
  auto ymd = read_date(c, slash ? '/' : '-');
  if (!ymd) return ymd.error();
  std::size_t time_at = c.pos();
  Precision precision = Precision::Day;
  milliseconds clock{0};
  if (!c.done()) {
    char sep = c.peek();
    bool ok_sep =
        slash ? (sep == ':' || sep == '.' || sep == ' ') : (sep == 'T' || sep == 't' || sep == ' ');
    if (!ok_sep) {
      return err(ErrorCode::Parse,
                 slash ? "expected ':' and an hour after the date (YYYY/MM/DD:HH)"
                       : "expected 'T' and a time after the date (YYYY-MM-DDTHH:MM)",
                 c.pos());
    }
    c.eat(sep);
    time_at = c.pos();
    auto t = read_clock(c, precision, !slash);
    if (!t) return t.error();
    clock = *t;
  }
  LocalMs local{date::local_days(*ymd).time_since_epoch() + clock};
  if (!slash && !c.done() && precision != Precision::Day) {
    // An explicit offset: Z, +hh, +hh:mm or +hhmm.
    std::size_t at = c.pos();
    if (c.eat('Z') || c.eat('z')) {
      if (!c.done()) return err(ErrorCode::Parse, "unexpected character after 'Z'", c.pos());
      return Parsed{TimeMs(local.time_since_epoch()), precision, std::nullopt};
    }
    int sign = c.eat('+') ? 1 : c.eat('-') ? -1 : 0;
    if (sign == 0) {
      return err(ErrorCode::Parse, "expected 'Z' or an offset such as +01:00 after the time", at);
    }
    auto oh = component(c, 2, 0, 23, "offset hour");
    if (!oh) return oh.error();
    int om = 0;
    if (!c.done()) {
      c.eat(':');
      auto m = component(c, 2, 0, 59, "offset minute");
      if (!m) return m.error();
      om = *m;
    }
    if (!c.done()) return err(ErrorCode::Parse, "unexpected character after the offset", c.pos());
    auto offset = minutes(sign * (*oh * 60 + om));
    return Parsed{TimeMs(local.time_since_epoch() - offset), precision, std::nullopt};
  }
  if (!c.done()) {
    return err(ErrorCode::Parse, "unexpected character after the time", c.pos());
  }
  auto instant = to_instant(local, ctx.zone, true, time_at);
  if (!instant) return instant.error();
  return Parsed{*instant, precision, local};
}

// The end of the unit a parsed time names: the next day, hour, minute, second or millisecond.
TimeMs end_of_unit(const Parsed& p, const TimeContext& ctx) {
  switch (p.precision) {
    case Precision::Day:
      if (p.local) return *to_instant(*p.local + days(1), ctx.zone, false, 0);
      return p.instant + days(1);
    case Precision::Hour: return p.instant + hours(1);
    case Precision::Minute: return p.instant + minutes(1);
    case Precision::Second: return p.instant + seconds(1);
    case Precision::Milli: break;
  }
  return p.instant + milliseconds(1);
}

struct Unit {
  std::string_view name;
  milliseconds length;
};

constexpr std::array kUnits = {
    Unit{"ms", milliseconds(1)}, Unit{"s", seconds(1)},       Unit{"sec", seconds(1)},
    Unit{"secs", seconds(1)},    Unit{"second", seconds(1)},  Unit{"seconds", seconds(1)},
    Unit{"m", minutes(1)},       Unit{"min", minutes(1)},     Unit{"mins", minutes(1)},
    Unit{"minute", minutes(1)},  Unit{"minutes", minutes(1)}, Unit{"h", hours(1)},
    Unit{"hr", hours(1)},        Unit{"hrs", hours(1)},       Unit{"hour", hours(1)},
    Unit{"hours", hours(1)},     Unit{"d", days(1)},          Unit{"day", days(1)},
    Unit{"days", days(1)},       Unit{"w", days(7)},          Unit{"wk", days(7)},
    Unit{"week", days(7)},       Unit{"weeks", days(7)},
};

std::optional<milliseconds> unit_length(std::string_view word) {
  std::string w = lower(word);
  for (const Unit& u : kUnits) {
    if (u.name == w) return u.length;
  }
  return std::nullopt;
}

Result<DurationMs> parse_duration_at(std::string_view text, std::size_t base) {
  std::size_t i = 0;
  milliseconds total{0};
  bool any = false;
  auto skip_spaces = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  skip_spaces();
  while (i < text.size()) {
    std::size_t num_at = i;
    std::int64_t n = 0;
    while (i < text.size() && is_digit(text[i])) {
      if (n > 1'000'000'000)
        return err(ErrorCode::OutOfRange, "duration is too long", base + num_at);
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == num_at) {
      return err(ErrorCode::Parse, "expected a number, as in 15m, 2h or 1h30m", base + i);
    }
    skip_spaces();
    std::size_t unit_at = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    if (i == unit_at) {
      return err(ErrorCode::Parse, "expected a unit after the number: ms, s, m, h, d or w",
                 base + unit_at);
    }
    auto len = unit_length(text.substr(unit_at, i - unit_at));
    if (!len) {
      return err(ErrorCode::Parse,
                 fmt::format("unknown unit \"{}\"; use ms, s, m, h, d or w",
                             text.substr(unit_at, i - unit_at)),
                 base + unit_at);
    }
    total += *len * n;
    if (total > kMaxDuration)
      return err(ErrorCode::OutOfRange, "duration is too long", base + num_at);
    any = true;
    skip_spaces();
  }
  if (!any) return err(ErrorCode::Parse, "expected a duration such as 15m, 2h or 1h30m", base + i);
  return total;
}

bool looks_like_duration(std::string_view s) {
  return !s.empty() && is_digit(s[0]) && std::isalpha(static_cast<unsigned char>(s.back())) &&
         s.find_first_of("-/:") == std::string_view::npos;
}

std::pair<std::string_view, std::size_t> trim(std::string_view s, std::size_t base) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
    ++base;
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return {s, base};
}

LocalMs to_local(TimeMs t, const TimeZoneRef& zone) {
  return LocalMs((t + zone.offset_at(t)).time_since_epoch());
}

Result<TimeWindow> checked(TimeWindow w, std::size_t offset) {
  if (!(w.begin < w.end)) {
    return err(ErrorCode::InvalidArgument, "the window ends before it begins", offset);
  }
  return w;
}

Result<TimeWindow> range(std::string_view a, std::size_t a_base, std::string_view b,
                         std::size_t b_base, const TimeContext& ctx) {
  auto [at, at_base] = trim(a, a_base);
  auto [bt, bt_base] = trim(b, b_base);
  auto begin = parse_absolute(at, at_base, ctx);
  if (!begin) return begin.error();
  if (bt.empty()) return checked({begin->instant, ctx.now}, at_base);
  auto end = parse_absolute(bt, bt_base, ctx);
  if (!end) return end.error();
  // A date alone as the end includes that whole day (2026-11-01..2026-11-08 is eight days); a
  // time is the exact end (10:00..12:00 stops at 12:00).
  TimeMs stop = end->precision == Precision::Day ? end_of_unit(*end, ctx) : end->instant;
  return checked({begin->instant, stop}, bt_base);
}

}  // namespace

Result<TimeZoneRef> TimeZoneRef::named(std::string_view name) {
  std::string n = lower(name);
  if (n == "utc" || n == "z" || n == "gmt" || n == "etc/utc") return TimeZoneRef::utc();
  try {
    if (n == "local") return TimeZoneRef(date::current_zone());
    return TimeZoneRef(date::locate_zone(std::string(name)));
  } catch (const std::exception&) {
    return Error(ErrorCode::NotFound,
                 fmt::format("unknown time zone \"{}\"; use UTC, local or an IANA name such as "
                             "Europe/Brussels (see /usr/share/zoneinfo; install tzdata if empty)",
                             name));
  }
}

std::string TimeZoneRef::name() const {
  return zone_ == nullptr ? std::string("UTC") : std::string(zone_->name());
}

std::chrono::seconds TimeZoneRef::offset_at(TimeMs t) const {
  if (zone_ == nullptr) return seconds(0);
  return zone_->get_info(floor<seconds>(t)).offset;
}

TimeContext TimeContext::system(TimeZoneRef zone) {
  return {floor<milliseconds>(std::chrono::system_clock::now()), zone};
}

Result<TimeMs> parse_time(std::string_view text, const TimeContext& ctx) {
  auto [t, base] = trim(text, 0);
  auto p = parse_absolute(t, base, ctx);
  if (!p) return p.error();
  return p->instant;
}

Result<DurationMs> parse_duration(std::string_view text) { return parse_duration_at(text, 0); }

namespace {

// FlowTraq's Time Navigation forms beyond the ones above (docs/time.md "Calendar units and
// relative points"): this hour/day/month/year, last N months/years, since TIME, -DURATION and
// -DUR..-DUR. nullopt when `low` is none of them.
TimeMs lenient_instant(LocalMs local, const TimeContext& ctx) {
  return *to_instant(local, ctx.zone, false, 0);
}

// "-2h" or "now" as an instant; nullopt otherwise.
std::optional<Result<TimeMs>> relative_point(std::string_view text, std::size_t base,
                                             const TimeContext& ctx) {
  auto [t, t_base] = trim(text, base);
  if (lower(t) == "now") return Result<TimeMs>(ctx.now);
  if (t.size() < 3 || t[0] != '-' || !looks_like_duration(t.substr(1))) return std::nullopt;
  auto d = parse_duration_at(t.substr(1), t_base + 1);
  if (!d) return Result<TimeMs>(d.error());
  return Result<TimeMs>(ctx.now - *d);
}

std::optional<Result<TimeWindow>> navigation_window(std::string_view t, std::size_t base,
                                                    const std::string& low,
                                                    const TimeContext& ctx) {
  const LocalMs local_now = to_local(ctx.now, ctx.zone);
  const auto today = floor<days>(local_now);
  const date::year_month_day ymd{today};
  if (low == "this hour" || low == "this minute") {
    const LocalMs first =
        low == "this hour" ? LocalMs(floor<hours>(local_now)) : LocalMs(floor<minutes>(local_now));
    const LocalMs last =
        first + (low == "this hour" ? milliseconds(hours(1)) : milliseconds(minutes(1)));
    return Result<TimeWindow>(TimeWindow{lenient_instant(first, ctx), lenient_instant(last, ctx)});
  }
  if (low == "this day") {
    return Result<TimeWindow>(TimeWindow{lenient_instant(LocalMs(today), ctx),
                                         lenient_instant(LocalMs(today + days(1)), ctx)});
  }
  if (low == "this month" || low == "this year") {
    const date::year_month_day first =
        low == "this month" ? ymd.year() / ymd.month() / 1 : ymd.year() / 1 / 1;
    const date::year_month_day last =
        low == "this month"
            ? date::year_month_day(first.year() / first.month() / 1 + date::months(1))
            : (first.year() + date::years(1)) / 1 / 1;
    return Result<TimeWindow>(TimeWindow{lenient_instant(LocalMs(date::local_days(first)), ctx),
                                         lenient_instant(LocalMs(date::local_days(last)), ctx)});
  }
  // last [N] month(s) / year(s): the calendar span up to now (the day clamped to the month's
  // last: on 31 March, last month begins on 28 or 29 February).
  if (low.rfind("last ", 0) == 0) {
    std::string_view rest = std::string_view(low).substr(5);
    std::int64_t n = 1;
    std::size_t i = 0;
    if (i < rest.size() && is_digit(rest[i])) {
      n = 0;
      while (i < rest.size() && is_digit(rest[i]) && n < 100000) n = n * 10 + (rest[i++] - '0');
      while (i < rest.size() && rest[i] == ' ') ++i;
    }
    const std::string_view unit = rest.substr(i);
    const bool month = unit == "month" || unit == "months" || unit == "mon";
    const bool year = unit == "year" || unit == "years" || unit == "yr" || unit == "y";
    if (month || year) {
      if (n == 0) {
        return Result<TimeWindow>(
            err(ErrorCode::InvalidArgument, "a window of length 0 is empty", base + 5));
      }
      date::year_month_day back =
          month ? ymd - date::months(static_cast<int>(n)) : ymd - date::years(static_cast<int>(n));
      if (!back.ok()) back = back.year() / back.month() / date::last;
      const LocalMs begin = LocalMs(date::local_days(back)) + (local_now - LocalMs(today));
      return Result<TimeWindow>(TimeWindow{lenient_instant(begin, ctx), ctx.now});
    }
  }
  // since TIME: from TIME up to now; a time of day alone is its latest past occurrence.
  if (low.rfind("since ", 0) == 0) {
    auto [rest, rest_base] = trim(t.substr(6), base + 6);
    const bool clock = !rest.empty() && rest.size() <= 12 &&
                       rest.find_first_not_of("0123456789:.") == std::string_view::npos &&
                       rest.find(':') != std::string_view::npos;
    if (clock) {
      auto iso_day = [](date::local_days d) {
        const date::year_month_day y{d};
        return fmt::format("{:04}-{:02}-{:02}", int(y.year()), unsigned(y.month()),
                           unsigned(y.day()));
      };
      auto p = parse_absolute(iso_day(today) + "T" + std::string(rest), 0, ctx);
      if (!p) {
        return Result<TimeWindow>(err(ErrorCode::Parse,
                                      "expected a time of day such as 23:50 or 08:15:30 after "
                                      "'since'",
                                      rest_base));
      }
      TimeMs begin = p->instant;
      if (begin > ctx.now) {
        auto y = parse_absolute(iso_day(today - days(1)) + "T" + std::string(rest), 0, ctx);
        if (!y) return Result<TimeWindow>(y.error());
        begin = y->instant;
      }
      return Result<TimeWindow>(checked({begin, ctx.now}, rest_base));
    }
    if (auto r = relative_point(rest, rest_base, ctx)) {
      if (!*r) return Result<TimeWindow>(r->error());
      return Result<TimeWindow>(checked({**r, ctx.now}, rest_base));
    }
    return Result<TimeWindow>(range(rest, rest_base, {}, rest_base + rest.size(), ctx));
  }
  // -1h (the last hour), -2h..-1h, -30m..now.
  if (!t.empty() && t[0] == '-') {
    const auto dots = t.find("..");
    if (dots == std::string_view::npos) {
      if (auto r = relative_point(t, base, ctx)) {
        if (!*r) return Result<TimeWindow>(r->error());
        return Result<TimeWindow>(checked({**r, ctx.now}, base));
      }
      return std::nullopt;
    }
    auto a = relative_point(t.substr(0, dots), base, ctx);
    auto b = relative_point(t.substr(dots + 2), base + dots + 2, ctx);
    if (a && b) {
      if (!*a) return Result<TimeWindow>(a->error());
      if (!*b) return Result<TimeWindow>(b->error());
      return Result<TimeWindow>(checked({**a, **b}, base + dots + 2));
    }
  }
  return std::nullopt;
}

}  // namespace

Result<TimeWindow> parse_window(std::string_view text, const TimeContext& ctx) {
  auto [t, base] = trim(text, 0);
  if (t.empty()) {
    return err(ErrorCode::Parse, "expected a time window such as 15m, last 1h, today or A..B", 0);
  }
  std::string low = lower(t);
  if (auto w = navigation_window(t, base, low, ctx)) return std::move(*w);
  if (low == "today" || low == "yesterday" || low == "this week" || low == "thisweek") {
    auto today = floor<days>(to_local(ctx.now, ctx.zone));
    date::local_days first = today, last = today + days(1);
    if (low == "yesterday") {
      first = today - days(1);
      last = today;
    } else if (low != "today") {
      unsigned since_monday = (date::weekday(today).c_encoding() + 6) % 7;
      first = today - days(since_monday);
      last = first + days(7);
    }
    return TimeWindow{*to_instant(LocalMs(first), ctx.zone, false, 0),
                      *to_instant(LocalMs(last), ctx.zone, false, 0)};
  }
  if (low.rfind("last", 0) == 0 && (low.size() == 4 || low[4] == ' ')) {
    auto [rest, rest_base] = trim(t.substr(4), base + 4);
    if (rest.empty()) {
      return err(ErrorCode::Parse, "expected a duration after 'last', as in last 1h",
                 base + t.size());
    }
    DurationMs d;
    if (auto unit = unit_length(rest)) {
      d = *unit;  // "last hour", "last week"
    } else {
      auto parsed = parse_duration_at(rest, rest_base);
      if (!parsed) return parsed.error();
      d = *parsed;
    }
    if (d.count() == 0)
      return err(ErrorCode::InvalidArgument, "a window of length 0 is empty", rest_base);
    return TimeWindow{ctx.now - d, ctx.now};
  }
  if (auto dots = t.find(".."); dots != std::string_view::npos) {
    if (dots == 0) {
      return err(ErrorCode::Parse, "expected a start time before '..'", base);
    }
    return range(t.substr(0, dots), base, t.substr(dots + 2), base + dots + 2, ctx);
  }
  if (looks_like_duration(t)) {
    auto d = parse_duration_at(t, base);
    if (!d) return d.error();
    if (d->count() == 0)
      return err(ErrorCode::InvalidArgument, "a window of length 0 is empty", base);
    return TimeWindow{ctx.now - *d, ctx.now};
  }
  // nfdump's START-END with slash dates (ISO dates contain '-' themselves).
  if (t.size() > 4 && t[4] == '/') {
    if (auto dash = t.find('-'); dash != std::string_view::npos) {
      return range(t.substr(0, dash), base, t.substr(dash + 1), base + dash + 1, ctx);
    }
  }
  auto p = parse_absolute(t, base, ctx);
  if (!p) return p.error();
  return TimeWindow{p->instant, end_of_unit(*p, ctx)};
}

std::string format_time(TimeMs t, const TimeZoneRef& zone) {
  // Hot in bulk output (every record has times): digits are written into a fixed buffer.
  auto offset = zone.offset_at(t);
  LocalMs local = to_local(t, zone);
  auto day = floor<days>(local);
  date::year_month_day ymd{day};
  std::int64_t ms_of_day = (local - day).count();
  char buf[32];
  auto put = [&buf](std::size_t at, std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10)
      buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  put(0, int(ymd.year()), 4);
  buf[4] = '-';
  put(5, unsigned(ymd.month()), 2);
  buf[7] = '-';
  put(8, unsigned(ymd.day()), 2);
  buf[10] = 'T';
  put(11, ms_of_day / 3600000, 2);
  buf[13] = ':';
  put(14, ms_of_day / 60000 % 60, 2);
  buf[16] = ':';
  put(17, ms_of_day / 1000 % 60, 2);
  std::size_t n = 19;
  if (ms_of_day % 1000 != 0) {
    buf[n] = '.';
    put(n + 1, ms_of_day % 1000, 3);
    n += 4;
  }
  if (zone.is_utc()) {
    buf[n++] = 'Z';
  } else {
    auto m = offset.count() / 60;
    buf[n++] = m < 0 ? '-' : '+';
    put(n, std::abs(m) / 60, 2);
    buf[n + 2] = ':';
    put(n + 3, std::abs(m) % 60, 2);
    n += 5;
  }
  return std::string(buf, n);
}

std::string format_window(const TimeWindow& w, const TimeZoneRef& zone) {
  return format_time(w.begin, zone) + " .. " + format_time(w.end, zone);
}

std::string format_duration(DurationMs d) {
  if (d.count() == 0) return "0s";
  std::string out;
  auto ms = d.count();
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  constexpr std::array<std::pair<std::int64_t, const char*>, 4> kParts = {
      {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}}};
  for (auto [len, name] : kParts) {
    if (ms >= len) {
      out += fmt::format("{}{}", ms / len, name);
      ms %= len;
    }
  }
  if (ms != 0) out += fmt::format("{}ms", ms);
  return out;
}

}  // namespace flowscope
