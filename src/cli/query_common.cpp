#include "cli/query_common.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <limits>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/address_names.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/short_flags.h"
#include "clickhouse/clickhouse_backend.h"
#include "core/log.h"
#include "core/time.h"
#include "enrich/ip_groups.h"

namespace flowscope::cli {
namespace {

// The flag of the running query's CancelToken, for the SIGINT handler: a signal handler can
// reach nothing else. Set only while a CancelOnInterrupt lives (one per process, main thread).
std::atomic<bool>* g_cancel_flag = nullptr;
void (*g_previous_handler)(int) = SIG_DFL;

extern "C" void on_interrupt(int) {
  if (g_cancel_flag != nullptr) g_cancel_flag->store(true, std::memory_order_relaxed);
}

}  // namespace

void add_common_query_options(CLI::App& cmd, CommonQueryOptions& opt) {
  cmd.add_option(kDataDirOption, opt.dir,
                 "Data directory of the store, or a ClickHouse cluster "
                 "clickhouse://HOST:PORT[,HOST:PORT...][/DB] (or -srv HOST)");
  add_server_options(&cmd, opt.server);
  cmd.add_option("-t,--time", opt.time,
                 "Time window: 15m, 'last 5 hours', 'last week', today, "
                 "'2026-11-24 08:00..2026-11-24 09:00' (docs/time.md), or all")
      ->capture_default_str();
  cmd.add_option("-f,--filter", opt.filter_option,
                 "Filter in FlowTraq's syntax, e.g. 'SRVPORT == 443 && CLNIP == 10.0.0.0/8'");
  cmd.add_option("FILTER", opt.filter_words, "Filter (same as -f); the words are joined");
  cmd.add_option("--nfdump-filter", opt.nfdump_filter,
                 "Filter in nfdump's syntax, e.g. 'src net 10.0.0.0/8 and dst port 443'");
  cmd.add_option("--groups", opt.groups_file,
                 "IP groups file (TOML or ipInfo.ini) to resolve group names in filters");
  cmd.add_flag("--names", opt.names,
               "Print reverse DNS names instead of addresses where there is one (the data "
               "directory's ipinfo.tsv, else a PTR query)");
  cmd.add_option("--dns", opt.dns, "DNS server HOST:PORT for --names (default: the system's)");
  cmd.add_flag("--csv", opt.csv, "CSV without a header (FlowTraq's -c, under ftsq/ftstat)");
  cmd.add_flag("--csv-header", opt.csv_header, "CSV with a header line (FlowTraq's -c+)");
  cmd.add_flag("--json", opt.json, "JSON, one object per line");
  cmd.add_option("-o,--output", opt.output, "Output: table, csv, csv+, json or fmt:FORMAT");
  cmd.add_option("--tz", opt.zone, "Time zone for -t and for printed times (UTC, Europe/Brussels)")
      ->capture_default_str();
  cmd.add_option("--now", opt.now, "Take this time as now (for reproducible relative windows)");
  cmd.add_flag("--progress", opt.progress, "Show progress on stderr even when not a terminal");
  cmd.add_flag("--no-progress", opt.no_progress, "Never show progress");
  cmd.add_flag("--explain", opt.explain,
               "Print to stderr what the store did: pushed-down ranges, rollup or raw, blocks");
  cmd.add_option("--threads", opt.threads,
                 "Scan threads for statistics (0: one per hardware thread); answers are the same")
      ->capture_default_str();
}

ResolvedQuery resolve_common(const CommonQueryOptions& opt) {
  ResolvedQuery q;
  auto zone = TimeZoneRef::named(opt.zone);
  if (!zone) throw UserError{"--tz: " + zone.error().message, kExitUsage};
  TimeContext ctx = TimeContext::system(*zone);
  if (!opt.now.empty()) {
    auto now = parse_time(opt.now, ctx);
    if (!now) throw UserError{render_error("--now", opt.now, now.error()), kExitUsage};
    ctx.now = *now;
  }
  if (opt.time != "all") {  // "all": every session, whatever its time (the Selection default)
    auto window = parse_window(opt.time, ctx);
    if (!window) throw UserError{render_error("time", opt.time, window.error()), kExitUsage};
    q.where.begin_ms = to_ms(window->begin);
    q.where.end_ms = to_ms(window->end);
  }

  std::string flowtraq = opt.filter_option;
  for (const std::string& w : opt.filter_words) {
    if (!flowtraq.empty()) flowtraq += ' ';
    flowtraq += w;
  }
  if (!flowtraq.empty() && !opt.nfdump_filter.empty()) {
    throw UserError{"give either a FlowTraq filter or --nfdump-filter, not both", kExitUsage};
  }
  if (!opt.nfdump_filter.empty()) {
    q.where.filter = opt.nfdump_filter;
    q.where.syntax = query::FilterSyntax::Nfdump;
  } else {
    q.where.filter = flowtraq;
  }
  q.filter_text = q.where.filter;
  q.now_ms = to_ms(ctx.now);
  q.exec.filter.time = ctx;
  q.exec.threads = opt.threads;
  if (!opt.groups_file.empty()) {
    auto groups = enrich::IpGroups::load(opt.groups_file);
    if (!groups) throw UserError{"--groups: " + groups.error().message};
    auto shared = std::make_shared<enrich::IpGroups>(std::move(*groups));
    q.keep_alive = shared;
    q.exec.filter.groups =
        [g = shared.get()](std::string_view name) -> std::optional<std::uint32_t> {
      const enrich::IpGroup* found = g->find(name);
      if (found == nullptr) return std::nullopt;
      return found->id;
    };
  }

  int formats = int(opt.csv) + int(opt.csv_header) + int(opt.json) + int(!opt.output.empty());
  if (formats > 1) throw UserError{"choose one output format", kExitUsage};
  q.output.format = opt.csv          ? query::OutputFormat::Csv
                    : opt.csv_header ? query::OutputFormat::CsvHeader
                    : opt.json       ? query::OutputFormat::JsonLines
                                     : query::OutputFormat::Table;
  if (!opt.output.empty()) {
    auto o = query::parse_output_format(opt.output);
    if (!o) throw UserError{"-o: " + o.error().message, kExitUsage};
    q.output = *o;
  }
  q.output.field.zone = *zone;

  const bool tty = ::isatty(2) == 1;
  if ((tty || opt.progress) && !opt.no_progress) {
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    q.exec.progress = [last](const query::QueryProgress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (now - *last < std::chrono::milliseconds(200)) return;
      *last = now;
      std::cerr << fmt::format("\rscanned {} sessions, {} match (Ctrl-C cancels)", p.rows_scanned,
                               p.rows_matched)
                << std::flush;
    };
  }

  if (opt.names && !opt.server.server.empty()) {
    throw UserError{"--names reads the data directory's names: use it with -d DATADIR, not -srv",
                    kExitUsage};
  }
  if (opt.names) {
    const bool local = !opt.dir.empty() && !clickhouse::is_clickhouse_url(opt.dir);
    q.names = std::make_shared<DnsAddressNames>(
        local ? std::filesystem::path(opt.dir) / "ipinfo.tsv" : std::filesystem::path(), opt.dns,
        std::chrono::milliseconds(2000));
    q.output.field.names = q.names.get();
  }

  if (!opt.server.server.empty()) return q;  // remote: the server opens its store
  if (opt.dir.empty()) {
    throw UserError{"give the data directory with -d DATADIR, or a server with -srv HOST",
                    kExitUsage};
  }
  if (clickhouse::is_clickhouse_url(opt.dir)) {
    auto o = clickhouse::parse_clickhouse_url(opt.dir);
    if (!o) throw UserError{o.error().message, kExitUsage};
    o->create_schema = false;  // reading: the schema is there or the query says which table
    auto ch = clickhouse::ClickHouseBackend::open(std::move(*o));
    if (!ch) throw UserError{ch.error().message};
    q.store = std::move(*ch);
    return q;
  }
  if (!std::filesystem::is_directory(opt.dir)) {
    throw UserError{"data directory " + opt.dir +
                    " does not exist; give the store's directory with -d (see flowscope import)"};
  }
  store::StoreOptions so;
  so.dir = opt.dir;
  so.read_only = true;
  auto s = store::EmbeddedStore::open(so);
  if (!s) throw UserError{s.error().message};
  for (const auto& bad : (*s)->snapshot()->bad_segments) {
    log_always(spdlog::level::warn, "store", "flowscope: warning: " + bad.error.message,
               bad.error.message);
  }
  q.raw_keep_ms = (*s)->options().keep_ms[0];
  q.store = std::move(*s);
  return q;
}

std::optional<query::MissingRange> raw_retention_gap(const ResolvedQuery& q,
                                                     std::string_view source) {
  return query::raw_retention_gap(q.where.begin_ms, q.now_ms, q.raw_keep_ms, source);
}

std::optional<query::MissingRange> note_raw_retention(const ResolvedQuery& q,
                                                      std::string_view source) {
  auto gap = raw_retention_gap(q, source);
  if (gap) {
    const std::string note = query::missing_note(*gap, q.output.field.zone);
    log_always(spdlog::level::info, "query", "flowscope: " + note, note);
  }
  return gap;
}

void throw_query_error(const Error& e, const ResolvedQuery& q) {
  if (e.code == ErrorCode::Cancelled) throw UserError{"query cancelled (Ctrl-C)", kExitInterrupted};
  if (e.where) {
    throw UserError{
        render_error(q.where.syntax == query::FilterSyntax::Nfdump ? "nfdump filter" : "filter",
                     q.filter_text, e),
        kExitUsage};
  }
  throw UserError{e.message, e.code == ErrorCode::InvalidArgument || e.code == ErrorCode::Parse
                                 ? kExitUsage
                                 : kExitError};
}

CancelOnInterrupt::CancelOnInterrupt(const query::CancelToken& token) {
  g_cancel_flag = token.flag();
  g_previous_handler = std::signal(SIGINT, on_interrupt);
}

CancelOnInterrupt::~CancelOnInterrupt() {
  std::signal(SIGINT, g_previous_handler);
  g_cancel_flag = nullptr;
}

std::vector<std::string> flowtraq_style_args(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  bool in_query = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string& a = args[i];
    if (!in_query) {
      in_query = a == "query" || a == "stat";
      continue;
    }
    if (a == "--") break;
    if (a == "-grp" || a == "-cnt" || a == "-snd" || a == "-rcv" || a == "-gx" || a == "-gy") {
      a = "-" + a;
    } else if (a == "-c+") {
      a = "--csv-header";
    }
  }
  return args;
}

}  // namespace flowscope::cli
