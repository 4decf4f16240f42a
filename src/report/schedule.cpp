#include "report/schedule.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <date/date.h>
#include <fmt/format.h>

#include "core/toml_section.h"

namespace flowscope::report {
namespace {

constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

Result<int> field_number(std::string_view s, int lo, int hi, const char* const* names, int base,
                         std::string_view what, int name_count = 0) {
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (names != nullptr) {
    for (int i = 0; i < name_count; ++i) {
      if (lower == names[i]) return i + base;
    }
  }
  if (s.empty() || s.size() > 4 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error{ErrorCode::Parse, fmt::format("{} \"{}\" is not a number", what, s)};
  }
  const int v = std::stoi(std::string(s));
  if (v < lo || v > hi) {
    return Error{ErrorCode::Parse, fmt::format("{} {} is outside {}-{}", what, v, lo, hi)};
  }
  return v;
}

// One cron field into `bits` (index = value). Returns whether it was "*" (any).
template <std::size_t N>
Result<bool> parse_field(std::string_view text, int lo, int hi, const char* const* names,
                         std::string_view what, std::bitset<N>& bits) {
  bool any = text == "*";
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    if (item.empty()) return Error{ErrorCode::Parse, fmt::format("{}: an empty list item", what)};
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      auto s = field_number(item.substr(slash + 1), 1, hi - lo + 1, nullptr, 0,
                            std::string(what) + " step");
      if (!s) return s.error();
      step = *s;
      item = item.substr(0, slash);
    }
    int a = lo, b = hi;
    if (item != "*") {
      auto dash = item.find('-');
      const int count = names == kDays ? 7 : names == kMonths ? 12 : 0;
      auto x =
          field_number(item.substr(0, dash), lo, hi, names, names == kDays ? 0 : lo, what, count);
      if (!x) return x.error();
      a = b = *x;
      if (dash != std::string_view::npos) {
        auto y = field_number(item.substr(dash + 1), lo, hi, names, names == kDays ? 0 : lo, what,
                              count);
        if (!y) return y.error();
        b = *y;
        if (b < a) {
          return Error{ErrorCode::Parse, fmt::format("{} range {}-{} runs backwards", what, a, b)};
        }
      } else if (step != 1) {
        b = hi;  // "5/15" = from 5 every 15
      }
    }
    for (int v = a; v <= b; v += step) bits.set(static_cast<std::size_t>(v));
    pos = comma + 1;
  }
  return any;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

Result<CronWhen> CronWhen::parse(std::string_view text) {
  std::string t(text);
  if (t == "@hourly") t = "0 * * * *";
  if (t == "@daily" || t == "@midnight") t = "0 0 * * *";
  if (t == "@weekly") t = "0 0 * * mon";
  if (t == "@monthly") t = "0 0 1 * *";
  if (t == "@yearly" || t == "@annually") t = "0 0 1 1 *";
  std::vector<std::string> f;
  for (std::size_t i = 0; i < t.size();) {
    while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
    std::size_t j = i;
    while (j < t.size() && !std::isspace(static_cast<unsigned char>(t[j]))) ++j;
    if (j > i) f.push_back(t.substr(i, j - i));
    i = j;
  }
  const std::string hint =
      "; write five fields MIN HOUR DAY MONTH WEEKDAY (\"30 2 * * *\", \"0 6 1 * *\") or "
      "@hourly, @daily, @weekly, @monthly";
  if (f.size() != 5) {
    return Error{ErrorCode::Parse,
                 fmt::format("when \"{}\" has {} fields{}", text, f.size(), hint)};
  }
  CronWhen w;
  w.text_ = std::string(text);
  auto fail = [&](const Error& e) {
    return Error{ErrorCode::Parse, fmt::format("when \"{}\": {}{}", text, e.message, hint)};
  };
  if (auto r = parse_field(f[0], 0, 59, nullptr, "minute", w.minute_); !r) return fail(r.error());
  if (auto r = parse_field(f[1], 0, 23, nullptr, "hour", w.hour_); !r) return fail(r.error());
  auto dom = parse_field(f[2], 1, 31, nullptr, "day of month", w.dom_);
  if (!dom) return fail(dom.error());
  w.dom_any_ = *dom;
  auto mon = parse_field(f[3], 1, 12, kMonths, "month", w.month_);
  if (!mon) return fail(mon.error());
  std::bitset<8> dow;
  auto d = parse_field(f[4], 0, 7, kDays, "weekday", dow);
  if (!d) return fail(d.error());
  w.dow_any_ = *d;
  for (std::size_t i = 0; i < 7; ++i) w.dow_[i] = dow[i];
  if (dow[7]) w.dow_[0] = true;  // 7 = Sunday
  return w;
}

bool CronWhen::matches_local(std::int64_t m) const {
  const std::int64_t day = floor_div(m, 1440);
  const std::int64_t in_day = m - day * 1440;
  if (!minute_[static_cast<std::size_t>(in_day % 60)] ||
      !hour_[static_cast<std::size_t>(in_day / 60)]) {
    return false;
  }
  return day_matches(day);
}

bool CronWhen::day_matches(std::int64_t day) const {
  const date::sys_days d{date::days(day)};
  const date::year_month_day ymd{d};
  if (!month_[static_cast<unsigned>(ymd.month())]) return false;
  const bool dom_ok = dom_[static_cast<unsigned>(ymd.day())];
  const bool dow_ok = dow_[date::weekday(d).c_encoding()];
  if (dom_any_ && dow_any_) return true;
  if (dom_any_) return dow_ok;
  if (dow_any_) return dom_ok;
  return dom_ok || dow_ok;
}

TimeMs CronWhen::next_after(TimeMs after, const TimeZoneRef& zone) const {
  // Minute by minute in local time would be 2.6 M steps over five years; skip whole days and
  // hours that cannot match.
  const std::int64_t after_min = floor_div(to_ms(after), 60'000);
  for (std::int64_t utc = after_min + 1; utc < after_min + 5LL * 366 * 1440;) {
    const TimeMs t = time_from_ms(utc * 60'000);
    const std::int64_t off = zone.offset_at(t).count() / 60;
    const std::int64_t local = utc + off;
    if (matches_local(local)) return t;
    const std::int64_t day = floor_div(local, 1440);
    const std::int64_t in_day = local - day * 1440;
    if (!day_matches(day)) {
      utc += 1440 - in_day;  // next local midnight
    } else if (!hour_[static_cast<std::size_t>(in_day / 60)]) {
      utc += 60 - in_day % 60;  // next hour
    } else {
      utc += 1;
    }
  }
  return TimeMs::max();
}

std::optional<TimeMs> CronWhen::last_at_or_before(TimeMs at, TimeMs floor,
                                                  const TimeZoneRef& zone) const {
  std::optional<TimeMs> last;
  for (TimeMs t = next_after(floor, zone); t <= at; t = next_after(t, zone)) last = t;
  return last;
}

Result<std::vector<std::string>> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
        cur.push_back(text[++i]);
      } else {
        cur.push_back(c);
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      cur.push_back(text[++i]);
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur.push_back(c);
      in_word = true;
    }
  }
  if (quote != 0) {
    return Error{ErrorCode::Parse, fmt::format("an unclosed {} quote", quote)};
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

Result<std::vector<ScheduleJob>> parse_schedule(std::string_view toml_text,
                                                std::string_view source) {
  auto parsed = parse_toml(toml_text, source);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  std::vector<ScheduleJob> jobs;
  const toml::node* node = root.get("schedule");
  if (node == nullptr) return jobs;
  TomlSection top(&root, source, "");
  auto at = [&](const toml::node* n, const std::string& msg) { return top.error_at(n, msg); };
  const toml::array* arr = node->as_array();
  if (arr == nullptr) {
    return at(node, "schedule must be an array of tables: write [[schedule]] before each job");
  }
  std::set<std::string> names;
  static constexpr std::string_view kKeys[] = {"name", "when",     "command", "job",
                                               "all",  "catch_up", "zone"};
  for (const toml::node& item : *arr) {
    const toml::table* t = item.as_table();
    if (t == nullptr) return at(&item, "each schedule entry must be a table ([[schedule]])");
    TomlSection sec(t, source, "[schedule]");
    ScheduleJob job;
    job.line = static_cast<std::size_t>(t->source().begin.line);
    if (auto r = sec.check_keys(kKeys); !r) return r.error();
    auto str = [&](const char* key, std::string& out) { return sec.string(key, out); };
    std::string when, preset;
    if (auto r = str("name", job.name); !r) return r.error();
    if (auto r = str("when", when); !r) return r.error();
    if (auto r = str("job", preset); !r) return r.error();
    if (job.name.empty()) return at(t, "[[schedule]] needs a name (name = \"monthly-report\")");
    if (!std::all_of(job.name.begin(), job.name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        })) {
      return at(t->get("name"), fmt::format("schedule name \"{}\": use letters, digits, '-' and "
                                            "'_'",
                                            job.name));
    }
    if (!names.insert(job.name).second) {
      return at(t->get("name"), fmt::format("schedule name \"{}\" is used twice", job.name));
    }
    if (when.empty()) {
      return at(t, fmt::format("schedule {}: give when = \"MIN HOUR DAY MONTH WEEKDAY\" (e.g. "
                               "\"30 2 * * *\") or @daily",
                               job.name));
    }
    auto w = CronWhen::parse(when);
    if (!w) return at(t->get("when"), fmt::format("schedule {}: {}", job.name, w.error().message));
    job.when = *w;
    if (auto r = sec.boolean("catch_up", job.catch_up); !r) return r.error();
    std::string zone;
    if (auto r = str("zone", zone); !r) return r.error();
    if (t->get("zone") != nullptr) {
      auto z = TimeZoneRef::named(zone);
      if (!z) {
        return at(t->get("zone"), fmt::format("schedule {}: zone \"{}\": {}; give an IANA name "
                                              "such as \"Europe/Brussels\", \"UTC\" or \"local\"",
                                              job.name, zone, z.error().message));
      }
      job.zone = *z;
    }
    bool all = false;
    if (auto r = sec.boolean("all", all); !r) return r.error();
    const toml::node* cmd = t->get("command");
    if (cmd != nullptr && !preset.empty()) {
      return at(cmd, fmt::format("schedule {}: give command or job, not both", job.name));
    }
    if (cmd != nullptr) {
      if (cmd->is_string()) {
        auto words = split_words(*cmd->value<std::string>());
        if (!words)
          return at(cmd, fmt::format("schedule {}: command: {}", job.name, words.error().message));
        job.command = *words;
      } else if (const toml::array* a = cmd->as_array()) {
        for (const toml::node& w2 : *a) {
          if (!w2.is_string()) {
            return sec.key_error(&w2, "command", "every item must be a string in quotes");
          }
          job.command.push_back(*w2.value<std::string>());
        }
      } else {
        return sec.key_error(cmd, "command", "must be a string or a list of strings");
      }
      if (job.command.empty())
        return at(cmd, fmt::format("schedule {}: the command is empty", job.name));
      if (job.command[0] == "flowscope") job.command.erase(job.command.begin());
      if (job.command.empty())
        return at(cmd, fmt::format("schedule {}: the command is empty", job.name));
      const std::string& sub = job.command[0];
      job.kind = sub == "report"   ? "report"
                 : sub == "ipinfo" ? "ipinfo"
                 : (sub == "store" && job.command.size() > 1 && job.command[1] == "retention")
                     ? "retention"
                     : "command";
      if (sub == "serve" || sub == "schedule") {
        return at(cmd,
                  fmt::format("schedule {}: `flowscope {}` cannot be scheduled", job.name, sub));
      }
    } else if (preset == "retention") {
      job.kind = "retention";
      job.command = {"store", "retention", "-d", "{datadir}"};
    } else if (preset == "ipinfo") {
      job.kind = "ipinfo";
      job.command = {"ipinfo", "refresh", "-d", "{datadir}"};
      if (all) job.command.push_back("--all");
    } else if (preset.empty()) {
      return at(t, fmt::format("schedule {}: give command = \"report volume ...\" or job = "
                               "\"retention\" | \"ipinfo\"",
                               job.name));
    } else {
      return at(t->get("job"), fmt::format("schedule {}: job \"{}\" is unknown; use retention or "
                                           "ipinfo, or give a command",
                                           job.name, preset));
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<std::string> expand_command(const ScheduleJob& job, const std::string& datadir,
                                        TimeMs due, const TimeZoneRef& zone) {
  const std::string date = format_time(due, zone).substr(0, 10);
  std::vector<std::string> out;
  for (std::string w : job.command) {
    for (auto [key, value] :
         {std::pair<std::string, std::string>{"{datadir}", datadir}, {"{date}", date}}) {
      for (std::size_t p = w.find(key); p != std::string::npos; p = w.find(key, p + value.size())) {
        w.replace(p, key.size(), value);
      }
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace flowscope::report
