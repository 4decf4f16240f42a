// `flowscope report`: the request into a plan, the store, the pattern file and the output files
// (report_run.h).
#include "report/report_run.h"

#include <fstream>

#include <date/date.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/renderers.h"

namespace flowscope::report {
namespace {

Error invalid(std::string message) { return Error{ErrorCode::InvalidArgument, std::move(message)}; }

}  // namespace

TimeWindow previous_period(const TimeContext& ctx, bool weekly) {
  const auto offset = ctx.zone.offset_at(ctx.now);
  const auto local = date::floor<date::days>(ctx.now + offset);
  date::sys_days begin, end;
  if (weekly) {
    const date::weekday wd{local};
    end = local - (wd - date::Monday);
    begin = end - date::days(7);
  } else {
    const date::year_month_day ymd{local};
    end = date::sys_days(ymd.year() / ymd.month() / 1);
    begin = date::sys_days((ymd.year() / ymd.month() / 1) - date::months(1));
  }
  auto to_utc = [&](date::sys_days d) {
    const TimeMs t = TimeMs(d.time_since_epoch());
    return t - ctx.zone.offset_at(t);
  };
  return TimeWindow{to_utc(begin), to_utc(end)};
}

Result<ReportPlan> plan_report(const ReportRequest& opt, bool detail) {
  ReportPlan c;
  auto zone = TimeZoneRef::named(opt.zone);
  if (!zone) return invalid("--tz: " + zone.error().message);
  c.time = TimeContext::system(*zone);
  if (!opt.now.empty()) {
    auto now = parse_time(opt.now, c.time);
    if (!now) return invalid(render_error("--now", opt.now, now.error()));
    c.time.now = *now;
  }
  auto& v = c.volume;
  if (!detail) {
    auto type = parse_volume_type(opt.type);
    if (!type) return invalid("--type: " + type.error().message);
    v.type = *type;
  }
  v.top = opt.top;
  v.threshold_bps = opt.threshold;
  v.activity = opt.activity;
  v.location = opt.location;
  v.host = opt.host;
  v.zone = *zone;
  TimeWindow w;
  if (!opt.start.empty() || !opt.end.empty()) {
    if (opt.start.empty() || opt.end.empty()) {
      return invalid("give both --start and --end (or neither: the previous month)");
    }
    if (!opt.timespan.empty()) return invalid("--timespan or --start/--end, not both");
    auto b = parse_time(opt.start, c.time);
    if (!b) return invalid(render_error("--start", opt.start, b.error()));
    // A date alone as --end includes that whole day, as in -t A..B.
    auto window = parse_window(opt.start + ".." + opt.end, c.time);
    if (!window) {
      auto e = parse_time(opt.end, c.time);
      if (!e) return invalid(render_error("--end", opt.end, e.error()));
      w = TimeWindow{*b, *e};
    } else {
      w = *window;
    }
  } else if (opt.timespan == "weekly" || opt.timespan == "monthly") {
    w = previous_period(c.time, opt.timespan == "weekly");
  } else if (!opt.timespan.empty()) {
    return invalid("--timespan \"" + opt.timespan + "\": use weekly or monthly");
  } else {
    w = previous_period(c.time, false);
  }
  v.begin_ms = to_ms(w.begin);
  v.end_ms = to_ms(w.end);
  v.now_text = format_time(c.time.now, *zone);

  if (!opt.groups.empty()) {
    auto g = enrich::IpGroups::load(opt.groups);
    if (!g) return invalid("--groups: " + g.error().message);
    c.groups = std::make_shared<enrich::IpGroups>(std::move(*g));
  }
  if (auto ok = check_options(v, c.groups.get()); !ok) return invalid(ok.error().message);
  for (std::size_t pos = 0; pos <= opt.formats.size();) {
    std::size_t comma = opt.formats.find(',', pos);
    if (comma == std::string::npos) comma = opt.formats.size();
    const std::string f = opt.formats.substr(pos, comma - pos);
    if (f != "pdf" && f != "html" && f != "json") {
      return invalid("--format \"" + f + "\": use pdf, html or json, joined by ','");
    }
    c.formats.push_back(f);
    pos = comma + 1;
  }
  if (!opt.server.empty() && !opt.dir.empty()) {
    return invalid("give -d DATADIR (a local store) or -srv HOST (a server), not both");
  }
  if (opt.dir.empty() && opt.server.empty()) {
    return invalid("give the data directory with -d DATADIR, or a server with -srv HOST -un USER");
  }
  c.exec.filter.time = c.time;
  if (opt.out.empty()) {
    const auto local = date::floor<date::days>(c.time.now + zone->offset_at(c.time.now));
    const date::year_month_day ymd{local};
    c.out = fmt::format("reports/{:04}/{:02}/{:02}", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  } else {
    c.out = opt.out;
  }
  return c;
}

Result<std::unique_ptr<store::EmbeddedStore>> open_report_store(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) {
    return Error{ErrorCode::NotFound, "data directory " + dir +
                                          " does not exist; give the store's directory "
                                          "with -d"};
  }
  store::StoreOptions so;
  so.dir = dir;
  so.read_only = true;
  return store::EmbeddedStore::open(so);
}

Result<std::vector<std::string>> read_host_patterns(const std::string& path) {
  std::ifstream in(path);
  if (!in) return invalid("--patterns: cannot read " + path);
  std::vector<std::string> patterns;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#' || line[b] == ';') continue;
    const auto e = line.find_last_not_of(" \t\r");
    const std::string p = line.substr(b, e - b + 1);
    if (auto ok = parse_host_pattern(p); !ok) {
      return invalid(fmt::format("{}:{}: {}", path, n, ok.error().message));
    }
    patterns.push_back(p);
  }
  if (patterns.empty()) return invalid("--patterns: " + path + " has no pattern");
  return patterns;
}

std::string host_dir_name(std::string host) {
  for (char& ch : host) {
    if (ch == ':') ch = '_';
  }
  return host;
}

Result<void> write_report_files(const Report& rep, const std::filesystem::path& dir,
                                const std::string& base, const std::vector<std::string>& formats,
                                std::ostream& listing) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{ErrorCode::Io, "cannot create " + dir.string() + ": " + ec.message()};
  for (const auto& f : formats) {
    const std::string path = (dir / (base + "." + f)).string();
    if (f == "pdf") {
      auto r = write_pdf(rep, path);
      if (!r) return r.error();
      listing << path << " (" << *r << " pages)\n";
      continue;
    }
    if (f == "html") {
      if (auto r = write_html(rep, path); !r) return r.error();
    } else {
      std::ofstream out(path, std::ios::trunc);
      out << to_json(rep).dump(1) << '\n';
      if (!out) return Error{ErrorCode::Io, "cannot write " + path};
    }
    listing << path << '\n';
  }
  return {};
}

}  // namespace flowscope::report
