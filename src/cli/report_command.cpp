// `flowscope report volume|detail`: trafMon's synthesis and detail reports (docs/reports.md) as
// PDF, self-contained HTML and JSON, from a local store. The questions and the drawing are in
// src/report; this file reads the options, checks them against trafMon's choices and writes the
// files.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <date/date.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/query_common.h"

#include "report/renderers.h"
#include "report/volume_report.h"

namespace flowscope::cli {
namespace {

struct ReportOptions {
  std::string type = "manager";
  int top = 5;
  std::uint64_t threshold = 1000;
  std::string activity, location, host;
  std::string start, end, timespan;
  std::string out;
  std::string dir;
  std::string server;
  std::string groups;
  std::string formats = "pdf,html";
  std::string zone = "UTC";
  std::string now;
  std::string patterns;
  bool quiet = false;
  bool explain = false;
};

struct Context {
  TimeContext time;
  report::VolumeOptions volume;
  std::shared_ptr<enrich::IpGroups> groups;
  std::unique_ptr<store::EmbeddedStore> store;
  query::ExecOptions exec;
  std::filesystem::path out;
  std::vector<std::string> formats;
};

// The calendar month before the one `now` is in, in `zone`: trafMon's default period.
TimeWindow previous(const TimeContext& ctx, bool weekly) {
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

Context resolve(const ReportOptions& opt, bool detail) {
  Context c;
  auto zone = TimeZoneRef::named(opt.zone);
  if (!zone) throw UserError{"--tz: " + zone.error().message, kExitUsage};
  c.time = TimeContext::system(*zone);
  if (!opt.now.empty()) {
    auto now = parse_time(opt.now, c.time);
    if (!now) throw UserError{render_error("--now", opt.now, now.error()), kExitUsage};
    c.time.now = *now;
  }
  auto& v = c.volume;
  if (!detail) {
    auto type = report::parse_volume_type(opt.type);
    if (!type) throw UserError{"--type: " + type.error().message, kExitUsage};
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
      throw UserError{"give both --start and --end (or neither: the previous month)", kExitUsage};
    }
    if (!opt.timespan.empty()) throw UserError{"--timespan or --start/--end, not both", kExitUsage};
    auto b = parse_time(opt.start, c.time);
    if (!b) throw UserError{render_error("--start", opt.start, b.error()), kExitUsage};
    // A date alone as --end includes that whole day, as in -t A..B.
    auto window = parse_window(opt.start + ".." + opt.end, c.time);
    if (!window) {
      auto e = parse_time(opt.end, c.time);
      if (!e) throw UserError{render_error("--end", opt.end, e.error()), kExitUsage};
      w = TimeWindow{*b, *e};
    } else {
      w = *window;
    }
  } else if (opt.timespan == "weekly" || opt.timespan == "monthly") {
    w = previous(c.time, opt.timespan == "weekly");
  } else if (!opt.timespan.empty()) {
    throw UserError{"--timespan \"" + opt.timespan + "\": use weekly or monthly", kExitUsage};
  } else {
    w = previous(c.time, false);
  }
  v.begin_ms = to_ms(w.begin);
  v.end_ms = to_ms(w.end);
  v.now_text = format_time(c.time.now, *zone);

  if (!opt.groups.empty()) {
    auto g = enrich::IpGroups::load(opt.groups);
    if (!g) throw UserError{"--groups: " + g.error().message, kExitUsage};
    c.groups = std::make_shared<enrich::IpGroups>(std::move(*g));
  }
  if (auto ok = report::check_options(v, c.groups.get()); !ok) {
    throw UserError{ok.error().message, kExitUsage};
  }
  for (std::size_t pos = 0; pos <= opt.formats.size();) {
    std::size_t comma = opt.formats.find(',', pos);
    if (comma == std::string::npos) comma = opt.formats.size();
    const std::string f = opt.formats.substr(pos, comma - pos);
    if (f != "pdf" && f != "html" && f != "json") {
      throw UserError{"--format \"" + f + "\": use pdf, html or json, joined by ','", kExitUsage};
    }
    c.formats.push_back(f);
    pos = comma + 1;
  }

  if (!opt.server.empty()) {
    throw UserError{
        "-srv: reports over a server are not supported yet; run the report where the "
        "store is (-d DATADIR), or let `flowscope serve` schedule it "
        "(docs/reports.md)",
        kExitUsage};
  }
  if (opt.dir.empty()) throw UserError{"give the data directory with -d DATADIR", kExitUsage};
  if (!std::filesystem::is_directory(opt.dir)) {
    throw UserError{"data directory " + opt.dir +
                    " does not exist; give the store's directory "
                    "with -d"};
  }
  store::StoreOptions so;
  so.dir = opt.dir;
  so.read_only = true;
  auto s = store::EmbeddedStore::open(so);
  if (!s) throw UserError{s.error().message};
  c.store = std::move(*s);
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

// Writes `rep` as <base>.pdf/.html/.json in `dir`; prints each file on stdout.
void write_all(const report::Report& rep, const std::filesystem::path& dir, const std::string& base,
               const std::vector<std::string>& formats) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError{"cannot create " + dir.string() + ": " + ec.message()};
  for (const auto& f : formats) {
    const std::string path = (dir / (base + "." + f)).string();
    if (f == "pdf") {
      auto r = report::write_pdf(rep, path);
      if (!r) throw UserError{r.error().message};
      std::cout << path << " (" << *r << " pages)\n";
      continue;
    }
    if (f == "html") {
      if (auto r = report::write_html(rep, path); !r) throw UserError{r.error().message};
    } else {
      std::ofstream out(path, std::ios::trunc);
      out << report::to_json(rep).dump(1) << '\n';
      if (!out) throw UserError{"cannot write " + path};
    }
    std::cout << path << '\n';
  }
}

void progress(const ReportOptions& opt, const std::string& what) {
  if (!opt.quiet && ::isatty(2) == 1) std::cerr << "report: " << what << '\n';
}

void run_volume(const ReportOptions& opt) {
  Context c = resolve(opt, false);
  report::BackendSource source(*c.store, c.exec, "-d " + opt.dir);
  progress(opt, fmt::format("{} report over {} .. {}", opt.type,
                            format_time(time_from_ms(c.volume.begin_ms), c.volume.zone),
                            format_time(time_from_ms(c.volume.end_ms), c.volume.zone)));
  auto rep = report::build_volume_report(source, c.volume, c.groups.get());
  if (!rep) throw UserError{rep.error().message};
  write_all(*rep, c.out, "volume-" + opt.type, c.formats);
  if (opt.explain) {
    const auto& s = source.scanned();
    std::cerr << fmt::format("report: blocks {} read, {} skipped; rows {} read\n",
                             s.blocks - s.blocks_skipped, s.blocks_skipped, s.rows_read);
  }
}

void run_detail(const ReportOptions& opt) {
  Context c = resolve(opt, true);
  std::ifstream in(opt.patterns);
  if (!in) throw UserError{"--patterns: cannot read " + opt.patterns, kExitUsage};
  std::vector<std::string> patterns;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#' || line[b] == ';') continue;
    const auto e = line.find_last_not_of(" \t\r");
    const std::string p = line.substr(b, e - b + 1);
    if (auto ok = report::parse_host_pattern(p); !ok) {
      throw UserError{fmt::format("{}:{}: {}", opt.patterns, n, ok.error().message), kExitUsage};
    }
    patterns.push_back(p);
  }
  if (patterns.empty())
    throw UserError{"--patterns: " + opt.patterns + " has no pattern", kExitUsage};
  report::BackendSource source(*c.store, c.exec, "-d " + opt.dir);
  auto reps = report::build_detail_reports(source, patterns, c.volume, c.groups.get());
  if (!reps) throw UserError{reps.error().message};
  const std::string root = std::filesystem::path(opt.patterns).stem().string();
  for (const auto& d : *reps) {
    std::string name = d.host;
    for (char& ch : name) {
      if (ch == ':') ch = '_';
    }
    progress(opt, "detail of " + d.host);
    write_all(d.report, c.out / root / name, "detail", c.formats);
  }
  if (reps->empty())
    std::cerr << "report: no host of " << opt.patterns << " has traffic in the period\n";
}

void add_shared(CLI::App* cmd, ReportOptions& o) {
  cmd->add_option("--top", o.top, "Rows per ranking: 5, 10, 15, 20 or 25")->capture_default_str();
  cmd->add_option("--threshold", o.threshold,
                  "Hosts and pairs below this average rate (b/s) are folded into 'others': 0, "
                  "1000, 10000, 50000, 100000 or 500000")
      ->capture_default_str();
  cmd->add_option("--activity", o.activity, "Only this activity of the IP groups (default any)");
  cmd->add_option("--location", o.location, "Only this location of the IP groups (default any)");
  cmd->add_option("--host", o.host,
                  "Only this host: an address, a network or an IP group name (quote names with "
                  "spaces; default any)");
  cmd->add_option("--start", o.start, "Start of the period (2026-11-01, 2026-11-01T08:00)");
  cmd->add_option("--end", o.end, "End of the period; a date alone includes that day");
  cmd->add_option("--out", o.out, "Output directory (default reports/YYYY/MM/DD of today)");
  cmd->add_option("-d,--dir", o.dir, "Data directory of the store");
  cmd->add_option("--srv", o.server, "A flowscope server instead of -d (not supported yet)");
  cmd->add_option("--groups", o.groups,
                  "IP groups (TOML or ipInfo.ini) giving locations and activities");
  cmd->add_option("--format", o.formats, "Files to write: pdf, html, json, joined by ','")
      ->capture_default_str();
  cmd->add_option("--tz", o.zone, "Time zone of dates and of the report's times")
      ->capture_default_str();
  cmd->add_option("--now", o.now, "Take this time as now (the default period is relative)");
  cmd->add_flag("-q,--quiet", o.quiet, "No progress on stderr");
  cmd->add_flag("--explain", o.explain,
                "After the report, on stderr: blocks and rows the store read for it");
}

}  // namespace

void register_report(CLI::App& app) {
  CLI::App* report = app.add_subcommand(
      "report",
      "trafMon's reports as PDF and HTML: volume (manager, operator, conversation) and "
      "per-host detail");
  report->require_subcommand(1);
  report->footer(
      "Examples:\n"
      "  flowscope report volume -d /var/lib/flowscope --groups groups.toml\n"
      "  flowscope report volume -d data --type operator --location 'Main site' --top 10\n"
      "  flowscope report detail -d data --patterns servers.txt --timespan weekly");

  auto vo = std::make_shared<ReportOptions>();
  CLI::App* volume = report->add_subcommand(
      "volume",
      "Synthesis report: manager (summary, top-N, service mix), operator (per location "
      "and activity, peaks, TCP health, FTP) or conversation (matrix, top pairs)");
  volume->add_option("--type", vo->type, "manager, operator or conversation")
      ->capture_default_str();
  add_shared(volume, *vo);
  volume->footer(
      "The default period is the previous calendar month; files go to --out as "
      "volume-TYPE.pdf/.html (and .json with --format). Every table names the `flowscope stat` "
      "command that gives its numbers. See docs/reports.md.\n\n"
      "Examples:\n"
      "  flowscope report volume -d /var/lib/flowscope --groups /etc/flowscope/groups.toml\n"
      "  flowscope report volume -d data --type operator --location 'Main site' --top 10\n"
      "  flowscope report volume -d data --type conversation --threshold 10000 \\\n"
      "      --start 2026-11-01 --end 2026-11-30 --out /srv/www/reports\n"
      "  flowscope report volume -d data --host 'Physics instruments' --groups groups.toml "
      "--format pdf,html,json");
  volume->callback([vo] { run_volume(*vo); });

  auto de = std::make_shared<ReportOptions>();
  CLI::App* detail = report->add_subcommand(
      "detail",
      "Protocol detail per host matching a pattern file: services, peers, volumes per "
      "direction, TCP health, FTP transfers");
  detail
      ->add_option("--patterns", de->patterns,
                   "File of address patterns, one per line (10.1.2.3, 10.1.0.0/16, 10.1.*); "
                   "its base name roots the output tree")
      ->required();
  detail->add_option("--timespan", de->timespan, "weekly or monthly: the previous week or month");
  add_shared(detail, *de);
  detail->footer(
      "Writes OUT/PATTERNS-NAME/HOST/detail.pdf and .html per host with traffic in the period.\n\n"
      "Examples:\n"
      "  flowscope report detail -d data --patterns servers.txt --timespan weekly\n"
      "  flowscope report detail -d data --patterns labs.txt --start 2026-11-01 --end 2026-11-07");
  detail->callback([de] { run_detail(*de); });
}

}  // namespace flowscope::cli
