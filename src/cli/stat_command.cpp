// `flowscope stat -d DATADIR [-t WINDOW] -grp GROUP -cnt COUNT [FILTER]`: ranked statistics,
// FlowTraq's ftstat (docs/query.md): top N groups with "others" and totals, by sending or
// receiving side, optionally as a time series.
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/query_common.h"
#include "cli/remote_query.h"
#include "cli/short_flags.h"
#include "core/log.h"
#include "query/executor.h"
#include "query/output.h"
#include "query/stat_graph.h"
#include "query/stat_series.h"

namespace flowscope::cli {
namespace {

struct StatOptions {
  CommonQueryOptions common;
  std::string group = "host";
  std::string count = "bytes";
  bool send = false;
  bool receive = false;
  std::uint64_t top = 10;
  std::string bucket;
  bool raw = false;
  std::string graph;
  int graph_width = 900;
  int graph_height = 450;
};

void run_stat(const StatOptions& opt) {
  ResolvedQuery q = resolve_common(opt.common);
  query::StatSpec spec;
  spec.where = q.where;
  auto groups = query::parse_group_spec(opt.group);
  if (!groups) throw UserError{"-grp: " + groups.error().message, kExitUsage};
  spec.group_by = *groups;
  if (auto r = query::parse_count_spec(opt.count, spec); !r) {
    throw UserError{"-cnt: " + r.error().message, kExitUsage};
  }
  if (opt.send && opt.receive) throw UserError{"-snd and -rcv exclude each other", kExitUsage};
  spec.side = opt.send ? query::Side::Send : opt.receive ? query::Side::Receive : query::Side::Both;
  spec.top = opt.top;
  if (!opt.bucket.empty()) {
    auto d = parse_duration(opt.bucket);
    if (!d || d->count() <= 0) {
      throw UserError{"-w: \"" + opt.bucket + "\" is not a bucket size; use e.g. 5m, 1h, 1d",
                      kExitUsage};
    }
    spec.bucket_ms = d->count();
  } else if (!opt.graph.empty()) {
    // A graph is a time series: about 120 points over the window unless --bucket says otherwise.
    spec.bucket_ms = query::graph_bucket_ms(spec.where.end_ms - spec.where.begin_ms);
  }
  if (opt.graph_width < query::kGraphMinWidth || opt.graph_width > query::kGraphMaxSide ||
      opt.graph_height < query::kGraphMinHeight || opt.graph_height > query::kGraphMaxSide) {
    throw UserError{fmt::format("-gx {} -gy {}: a graph is {}x{} to {}x{} pixels", opt.graph_width,
                                opt.graph_height, query::kGraphMinWidth, query::kGraphMinHeight,
                                query::kGraphMaxSide, query::kGraphMaxSide),
                    kExitUsage};
  }
  query::GraphOptions g;
  g.width = opt.graph_width;
  g.height = opt.graph_height;
  g.zone = q.output.field.zone;
  q.exec.force_scan = opt.raw;
  if (q.output.format == query::OutputFormat::Template) {
    throw UserError{"format strings apply to `flowscope query`; use table, csv, csv+ or json",
                    kExitUsage};
  }

  if (!opt.common.server.server.empty()) {
    nlohmann::json extra = {{"raw", opt.raw}, {"graph", !opt.graph.empty()}};
    const nlohmann::json done = run_remote("stat", query::to_json(spec), opt.common, extra);
    if (opt.graph.empty()) return;
    if (!done.contains("graph")) {
      throw UserError{"-g: the server sent no graph data; it predates `stat -srv -g` (upgrade it)"};
    }
    auto data = query::graph_data_from_json(done["graph"]);
    if (!data) throw UserError{"-g: " + data.error().message};
    if (auto r = query::write_graph(opt.graph, spec, *data, g); !r) {
      throw UserError{"-g: " + r.error().message};
    }
    return;
  }
  CancelOnInterrupt interrupt(q.exec.cancel);
  auto result = query::execute_stat(*q.store, spec, q.exec);
  if (q.exec.progress) std::cerr << "\r\033[K" << std::flush;
  if (!result) throw_query_error(result.error(), q);
  query::span_window_buckets(spec, *result);
  if (!opt.graph.empty()) {
    if (auto r = query::write_stat_graph(opt.graph, spec, *result, g); !r) {
      throw UserError{"-g: " + r.error().message};
    }
  }
  result->missing = raw_retention_gap(q, result->stats.source);
  query::write_stat(std::cout, spec, *result, q.output);
  note_raw_retention(q, result->stats.source);
  if (result->saturated && (q.output.format == query::OutputFormat::Csv ||
                            q.output.format == query::OutputFormat::CsvHeader)) {
    log_always(spdlog::level::warn, "query",
               std::string("flowscope: warning: ") + query::kSaturatedNote, query::kSaturatedNote);
  }
  for (const auto& e : result->stats.scan.errors) {
    log_always(spdlog::level::warn, "query", "flowscope: warning: " + e.message, e.message);
  }
  if (opt.common.explain) {
    const auto& s = result->stats.scan;
    std::cerr << fmt::format("source: {}; blocks {} read, {} skipped; rows {} read, {} match\n",
                             result->stats.source, s.blocks - s.blocks_skipped, s.blocks_skipped,
                             s.rows_read, result->stats.rows_matched);
  }
}

}  // namespace

void register_stat(CLI::App& app) {
  auto opt = std::make_shared<StatOptions>();
  CLI::App* cmd = app.add_subcommand(
      "stat", "Ranked statistics over sessions (FlowTraq's ftstat): top hosts, pairs, ports...");
  add_common_query_options(*cmd, opt->common);
  cmd->add_option("--grp,--group", opt->group,
                  "Group by: host, pair, port, srvport, service, country, as, proto, iface, vlan, "
                  "exporter, app, group or any session field, or a tuple joined by ','; "
                  "addresses as networks with /N (IPv4) or /N/M (IPv4 /N, IPv6 /M): host/24/64")
      ->capture_default_str();
  cmd->add_option("--cnt,--count", opt->count,
                  "Count: bytes, packets, sessions, uports (distinct server ports), uhosts "
                  "(distinct peers) or unique:FIELD")
      ->capture_default_str();
  cmd->add_flag("--snd,--send", opt->send, "Rank by what each group sent");
  cmd->add_flag("--rcv,--receive", opt->receive, "Rank by what each group received");
  cmd->add_option("-n,--top", opt->top, "Rows before \"others\" (0 = all)")->capture_default_str();
  cmd->add_option("--bucket", opt->bucket, "Time series with this bucket size (5m, 1h, 1d)");
  cmd->add_flag("--raw", opt->raw, "Answer from raw sessions, never from rollups");
  cmd->add_option("--graph", opt->graph,
                  "Also draw the time series as a stacked graph into this PNG file (a bucket "
                  "is chosen when --bucket is not given)");
  add_moved_flag(*cmd, 'w',
                 "the time-series bucket is --bucket SIZE; FlowTraq's -w is under the "
                 "name ftstat");
  add_moved_flag(*cmd, 'g',
                 "the graph file is --graph FILE; FlowTraq's -g is under the name ftstat");
  add_moved_flag(*cmd, 'c',
                 "CSV output is --csv (or -o csv); FlowTraq's -c is under the name ftstat");
  cmd->add_option("--gx", opt->graph_width, "Graph width in pixels (FlowTraq's -gx)")
      ->capture_default_str();
  cmd->add_option("--gy", opt->graph_height, "Graph height in pixels (FlowTraq's -gy)")
      ->capture_default_str();
  cmd->footer(
      "FlowTraq's single-dash forms -grp, -cnt, -snd, -rcv and -c+ are accepted. Every option and "
      "the filter syntax: docs/query.md.\n\n"
      "Examples:\n"
      "  flowscope stat -d data -t 'last week' -grp host -cnt bytes -snd -n 25\n"
      "  flowscope stat -d data -t 'last 5 hours' -grp pair -cnt uports -n 5\n"
      "  flowscope stat -d data -t 1d -grp host/24/48 -cnt sessions 'PROTO == tcp'\n"
      "  flowscope stat -d data -t today -grp srvport -cnt bytes --bucket 1h -c+\n"
      "  flowscope stat -d data -t 'last day' -grp host -snd -n 8 --graph hosts.png -gx 1200\n"
      "  flowscope stat -d data -grp country -cnt unique:SRVPORT --json\n"
      "  flowscope stat -srv localhost:9640 -us KEY -grp host -cnt bytes");
  cmd->callback([opt] { run_stat(*opt); });
}

}  // namespace flowscope::cli
