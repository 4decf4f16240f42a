// `flowscope report volume|detail`: trafMon's synthesis and detail reports (docs/reports.md) as
// PDF, self-contained HTML and JSON, from a local store (-d) or a server (-srv). The questions and
// the drawing are in src/report (the checks against trafMon's choices, the period and the files in
// report/report_run.h); this file reads the options, calls them and prints.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/server_login.h"
#include "cli/short_flags.h"
#include "core/log.h"
#include "server/remote_report_source.h"

#include "report/report_run.h"
#include "report/volume_report.h"

namespace flowscope::cli {
namespace {

struct ReportOptions {
  report::ReportRequest request;
  ServerLogin login;  // -srv: the numbers come from a server (docs/reports.md "Over a server")
  std::string patterns;
  bool quiet = false;
  bool explain = false;
};

// The plan of the request and where its numbers come from: the store it reads (-d) or a
// server (-srv) (report/report_run.h, server/remote_report_source.h).
struct Context {
  report::ReportPlan plan;
  std::unique_ptr<store::EmbeddedStore> store;
  std::unique_ptr<report::ReportSource> source;
  const report::BackendSource* local = nullptr;  // for --explain
};

Context resolve(const ReportOptions& opt, bool detail) {
  report::ReportRequest request = opt.request;
  request.server = opt.login.server;
  auto plan = report::plan_report(request, detail);
  if (!plan) throw UserError{plan.error().message, kExitUsage};
  Context c{std::move(*plan), nullptr, nullptr};
  if (!request.server.empty()) {
    c.source = std::make_unique<server::RemoteReportSource>(connect_server(opt.login),
                                                            "-srv " + request.server);
    return c;
  }
  auto s = report::open_report_store(request.dir);
  if (!s) throw UserError{s.error().message};
  c.store = std::move(*s);
  auto local = std::make_unique<report::BackendSource>(*c.store, c.plan.exec, "-d " + request.dir);
  c.local = local.get();
  c.source = std::move(local);
  return c;
}

void write_all(const report::Report& rep, const std::filesystem::path& dir, const std::string& base,
               const std::vector<std::string>& formats) {
  auto r = report::write_report_files(rep, dir, base, formats, std::cout);
  if (!r) throw UserError{r.error().message};
}

void progress(const ReportOptions& opt, const std::string& what) {
  if (!opt.quiet && ::isatty(2) == 1) std::cerr << "report: " << what << '\n';
}

void run_volume(const ReportOptions& opt) {
  Context c = resolve(opt, false);
  const report::VolumeOptions& v = c.plan.volume;
  report::ReportSource& source = *c.source;
  progress(opt, fmt::format("{} report over {} .. {}", opt.request.type,
                            format_time(time_from_ms(v.begin_ms), v.zone),
                            format_time(time_from_ms(v.end_ms), v.zone)));
  auto rep = report::build_volume_report(source, v, c.plan.groups.get());
  if (!rep) throw UserError{rep.error().message};
  write_all(*rep, c.plan.out, "volume-" + opt.request.type, c.plan.formats);
  if (opt.explain && c.local == nullptr) {
    const std::string note =
        "--explain counts what a local store reads; over -srv the server reads";
    log_always(spdlog::level::info, "report", "report: " + note, note);
  } else if (opt.explain) {
    const auto& s = c.local->scanned();
    std::cerr << fmt::format("report: blocks {} read, {} skipped; rows {} read\n",
                             s.blocks - s.blocks_skipped, s.blocks_skipped, s.rows_read);
  }
}

void run_detail(const ReportOptions& opt) {
  Context c = resolve(opt, true);
  auto patterns = report::read_host_patterns(opt.patterns);
  if (!patterns) throw UserError{patterns.error().message, kExitUsage};
  auto reps =
      report::build_detail_reports(*c.source, *patterns, c.plan.volume, c.plan.groups.get());
  if (!reps) throw UserError{reps.error().message};
  const std::string root = std::filesystem::path(opt.patterns).stem().string();
  for (const auto& d : *reps) {
    progress(opt, "detail of " + d.host);
    write_all(d.report, c.plan.out / root / report::host_dir_name(d.host), "detail",
              c.plan.formats);
  }
  if (reps->empty()) {
    const std::string note = "no host of " + opt.patterns + " has traffic in the period";
    log_always(spdlog::level::warn, "report", "report: " + note, note);
  }
}

void add_shared(CLI::App* cmd, ReportOptions& o) {
  cmd->add_option("--top", o.request.top, "Rows per ranking: 5, 10, 15, 20 or 25")
      ->capture_default_str();
  cmd->add_option("--threshold", o.request.threshold,
                  "Hosts and pairs below this average rate (b/s) are folded into 'others': 0, "
                  "1000, 10000, 50000, 100000 or 500000")
      ->capture_default_str();
  cmd->add_option("--activity", o.request.activity,
                  "Only this activity of the IP groups (default any)");
  cmd->add_option("--location", o.request.location,
                  "Only this location of the IP groups (default any)");
  cmd->add_option("--host", o.request.host,
                  "Only this host: an address, a network or an IP group name (quote names with "
                  "spaces; default any)");
  cmd->add_option("--start", o.request.start, "Start of the period (2026-11-01, 2026-11-01T08:00)");
  cmd->add_option("--end", o.request.end, "End of the period; a date alone includes that day");
  cmd->add_option("--out", o.request.out, "Output directory (default reports/YYYY/MM/DD of today)");
  cmd->add_option(kDataDirOption, o.request.dir, "Data directory of the store");
  add_server_options(cmd, o.login);
  cmd->add_option("--groups", o.request.groups,
                  "IP groups (TOML or ipInfo.ini) giving locations and activities");
  cmd->add_option("--format", o.request.formats, "Files to write: pdf, html, json, joined by ','")
      ->capture_default_str();
  cmd->add_option("--tz", o.request.zone, "Time zone of dates and of the report's times")
      ->capture_default_str();
  cmd->add_option("--now", o.request.now, "Take this time as now (the default period is relative)");
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
  volume->add_option("--type", vo->request.type, "manager, operator or conversation")
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
      "--format pdf,html,json\n"
      "  flowscope report volume -srv collector.example.net -un alice --groups groups.toml\n"
      "      (the numbers come from the server, within alice's data permissions)");
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
  detail->add_option("--timespan", de->request.timespan,
                     "weekly or monthly: the previous week or month");
  add_shared(detail, *de);
  detail->footer(
      "Writes OUT/PATTERNS-NAME/HOST/detail.pdf and .html per host with traffic in the period.\n\n"
      "Examples:\n"
      "  flowscope report detail -d data --patterns servers.txt --timespan weekly\n"
      "  flowscope report detail -d data --patterns labs.txt --start 2026-11-01 --end 2026-11-07");
  detail->callback([de] { run_detail(*de); });
}

}  // namespace flowscope::cli
