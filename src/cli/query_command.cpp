// `flowscope query -d DATADIR [-t WINDOW] [FILTER]`: raw sessions, FlowTraq's ftsq
// (docs/query.md): chosen fields, sort, limit, as a table, CSV, JSON lines or a format string.
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/query_common.h"
#include "cli/remote_query.h"
#include "cli/short_flags.h"
#include "core/log.h"
#include "query/executor.h"
#include "query/output.h"

namespace flowscope::cli {
namespace {

struct QueryOptions {
  CommonQueryOptions common;
  std::vector<std::string> fields;
  std::vector<std::string> sort;
  std::uint64_t limit = 0;
};

void run_query(const QueryOptions& opt) {
  ResolvedQuery q = resolve_common(opt.common);
  query::QuerySpec spec;
  spec.where = q.where;
  for (const std::string& item : opt.fields) {
    auto f = query::parse_field_list(item);
    if (!f) throw UserError{"--fields: " + f.error().message, kExitUsage};
    spec.fields.insert(spec.fields.end(), f->begin(), f->end());
  }
  for (const std::string& item : opt.sort) {
    auto k = query::parse_sort_key(item);
    if (!k) throw UserError{"--sort: " + k.error().message, kExitUsage};
    spec.sort.push_back(*k);
  }
  spec.limit = opt.limit;
  if (!opt.common.server.server.empty()) {
    run_remote("query", query::to_json(spec), opt.common);
    return;
  }
  if (spec.fields.empty()) spec.fields = query::default_query_fields();
  auto writer = query::RowWriter::create(std::cout, spec.fields, q.output);
  if (!writer)
    throw UserError{render_error("format", q.output.format_string, writer.error()), kExitUsage};
  spec.fields = (*writer)->fields();

  CancelOnInterrupt interrupt(q.exec.cancel);
  auto stats = query::execute_query(
      *q.store, spec,
      [&](const SessionBatch& rows) {
        (*writer)->write(rows);
        return true;
      },
      q.exec);
  if (q.exec.progress) std::cerr << "\r\033[K" << std::flush;
  if (!stats) throw_query_error(stats.error(), q);
  (*writer)->finish();
  // JSON lines: a last object, flagged by its only key, names the part of the window the rows
  // lack (docs/query.md "Raw retention"); it is written only when something is missing.
  if (const auto missing = note_raw_retention(q, stats->source);
      missing && q.output.format == query::OutputFormat::JsonLines) {
    const nlohmann::json line = {{"missing", query::missing_json(*missing, q.output.field.zone)}};
    std::cout << line.dump() << '\n' << std::flush;
  }
  for (const auto& e : stats->scan.errors) {
    log_always(spdlog::level::warn, "query", "flowscope: warning: " + e.message, e.message);
  }
  if (opt.common.explain) {
    std::cerr << fmt::format(
        "source: {}; blocks {} read, {} skipped; rows {} read, {} from the store, {} match, {} "
        "written\n",
        stats->source, stats->scan.blocks - stats->scan.blocks_skipped, stats->scan.blocks_skipped,
        stats->scan.rows_read, stats->scan.rows_returned, stats->rows_matched,
        stats->rows_returned);
  }
}

}  // namespace

void register_query(CLI::App& app) {
  auto opt = std::make_shared<QueryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "query", "Raw sessions from the store (FlowTraq's ftsq): filter, fields, sort, limit");
  add_common_query_options(*cmd, opt->common);
  cmd->add_option("--fields", opt->fields,
                  "Fields to print, by name or filter keyword (flowscope fields); derived ones "
                  "such as total_bytes and duration too")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("-O,--sort", opt->sort, "Sort by FIELD, FIELD:desc or -FIELD (descending)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("-c,--limit", opt->limit, "At most N sessions (0 = all), as nfdump's -c")
      ->check(count_or_moved(
          "-c was CSV output, which is --csv (or -o csv) now; FlowTraq's -c is under the name "
          "ftsq"));
  add_moved_flag(*cmd, 'n',
                 "the number of sessions is -c N (--limit), as nfdump's -c; FlowTraq's -n is "
                 "under the name ftsq");
  add_moved_flag(*cmd, 's', "the sort order is -O FIELD (--sort), as nfdump's -O");
  cmd->footer(
      "FlowTraq's -c+ is accepted for --csv-header. Filter syntax and every option: "
      "docs/query.md.\n\n"
      "Examples:\n"
      "  flowscope query -d /var/lib/flowscope -t 1h 'SRVPORT == 443 && CLNIP == 10.0.0.0/8'\n"
      "  flowscope query -d data -t 'last day' -O total_bytes:desc -c 20 PROTO == udp\n"
      "  flowscope query -d data -c+ --fields start_time,cln_addr,srv_addr,total_bytes\n"
      "  flowscope query -d data --nfdump-filter 'src net 10.0.0.0/8 and dst port 53' --json\n"
      "  flowscope query -d data -o 'fmt:%cln_addr -> %srv_addr:%srv_port %total_bytes'\n"
      "  flowscope query -srv localhost -un alice -up secret -t 1h SRVPORT == 22\n"
      "  flowscope query -srv flows.example.org --tls -un alice -up secret -t 1h\n"
      "  flowscope query -srv 10.1.2.3 --tls-ca /etc/flowscope/ca.pem -us KEY -t 1h");
  cmd->callback([opt] { run_query(*opt); });
}

}  // namespace flowscope::cli
