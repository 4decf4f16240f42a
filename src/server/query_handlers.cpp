// The filter-language requests of the query protocol (docs/protocol.md "query", "stat"): the
// same QuerySpec/StatSpec and executor as `flowscope query -d`, run on the server's store with
// the user's data permissions ANDed to the filter (server/permission_filter.h), the output
// rendered by query/output.h in the format the client asked for and streamed in Rows frames of
// text. A Cancel from the client cancels the executor at its next batch.
#include <sstream>

#include <fmt/format.h>

#include "query/executor.h"
#include "query/output.h"
#include "query/stat_graph.h"
#include "query/stat_series.h"
#include "query/typed_json.h"
#include "server/permission_filter.h"
#include "server/server.h"

namespace flowscope::server {
namespace {

constexpr std::size_t kTextChunk = 64 << 10;
constexpr std::size_t kTypedChunk = 4096;  // rows per Rows frame of a typed answer

struct Prepared {
  query::OutputOptions output;
  query::ExecOptions exec;
  std::shared_ptr<const enrich::IpGroups> groups;
};

Result<Prepared> prepare(const nlohmann::json& request,
                         std::shared_ptr<const enrich::IpGroups> groups, TimeMs now) {
  Prepared p;
  auto output = query::parse_output_format(request.value("output", "table"));
  if (!output) return output.error();
  p.output = *output;
  auto zone = TimeZoneRef::named(request.value("zone", "UTC"));
  if (!zone) return zone.error();
  p.output.field.zone = *zone;
  p.groups = std::move(groups);
  p.exec.filter.time = TimeContext{now, *zone};
  const enrich::IpGroups* g = p.groups.get();
  p.exec.filter.groups = [g](std::string_view name) -> std::optional<std::uint32_t> {
    const enrich::IpGroup* found = g != nullptr ? g->find(name) : nullptr;
    if (found == nullptr) return std::nullopt;
    return found->id;
  };
  return p;
}

// The Done frame of a query: where its rows came from and how many were read (none when it was
// cancelled).
nlohmann::json query_done(const Result<query::QueryStats>& stats) {
  nlohmann::json done = nlohmann::json::object();
  if (stats) {
    done["source"] = stats->source;
    done["rows_read"] = stats->scan.rows_read;
  }
  return done;
}

// A "query" with "typed": Rows frames of typed values (query/typed_json.h) of stored fields,
// for clients that compute with them (`report -srv`) rather than show them.
Result<nlohmann::json> typed_query(RequestContext& ctx, const query::QuerySpec& spec, Prepared& p,
                                   const store::Backend& backend) {
  std::vector<std::string> names;
  for (FieldId f : spec.fields) {
    if (SessionBatch::column_index(f) < 0) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("{} is derived; a typed answer carries stored fields only (ask "
                               "for its parts, e.g. CLNBYTS and SRVBYTS for TOTBYTS)",
                               field_info(f).name)};
    }
    names.emplace_back(field_info(f).name);
  }
  if (auto r = ctx.out.header(names); !r) return r.error();
  bool write_failed = false;
  auto stats = query::execute_query(
      backend, spec,
      [&](const SessionBatch& batch) {
        nlohmann::json rows = nlohmann::json::array();
        for (std::size_t r = 0; r < batch.size(); ++r) {
          nlohmann::json row = nlohmann::json::array();
          for (FieldId f : spec.fields) row.push_back(query::typed_value(batch.column(f), r));
          rows.push_back(std::move(row));
          if (rows.size() >= kTypedChunk || r + 1 == batch.size()) {
            if (!ctx.out.rows(std::move(rows))) write_failed = true;
            rows = nlohmann::json::array();
          }
        }
        if (write_failed || ctx.out.cancelled()) {
          p.exec.cancel.cancel();
          return false;
        }
        return true;
      },
      p.exec);
  if (!stats && !query::is_cancelled(stats.error())) return stats.error();
  if (write_failed) return Error{ErrorCode::Io, "the client went away"};
  return query_done(stats);
}

}  // namespace

void Server::register_query_handlers() {
  query_->handle("query", [this](RequestContext& ctx) -> Result<nlohmann::json> {
    auto spec = query::query_spec_from_json(ctx.request.value("spec", nlohmann::json::object()));
    if (!spec) return spec.error();
    auto p = prepare(ctx.request, groups_.snapshot(), options_.clock());
    if (!p) return p.error();
    spec->where = restrict_selection(std::move(spec->where), ctx.principal, p->groups.get());
    if (spec->fields.empty()) spec->fields = query::default_query_fields();
    if (ctx.request.value("typed", false)) return typed_query(ctx, *spec, *p, *backend_);
    std::ostringstream text;
    auto writer = query::RowWriter::create(text, spec->fields, p->output);
    if (!writer) return writer.error();
    spec->fields = (*writer)->fields();
    std::vector<std::string> names;
    for (FieldId f : spec->fields) names.emplace_back(field_info(f).name);
    if (auto r = ctx.out.header(names); !r) return r.error();
    std::uint64_t pending_rows = 0;
    bool write_failed = false;
    auto send = [&] {
      if (text.tellp() <= 0 && pending_rows == 0) return;
      if (!ctx.out.text(text.str(), pending_rows)) write_failed = true;
      text.str("");
      pending_rows = 0;
    };
    auto stats = query::execute_query(
        *backend_, *spec,
        [&](const SessionBatch& rows) {
          (*writer)->write(rows);
          pending_rows += rows.size();
          if (text.tellp() >= static_cast<std::streamoff>(kTextChunk)) send();
          if (write_failed || ctx.out.cancelled()) {
            p->exec.cancel.cancel();
            return false;
          }
          return true;
        },
        p->exec);
    if (!stats && !query::is_cancelled(stats.error())) return stats.error();
    std::optional<query::MissingRange> missing;
    if (stats) {
      missing = query::raw_retention_gap(spec->where.begin_ms, to_ms(options_.clock()),
                                         raw_keep_ms(), stats->source);
    }
    if (!ctx.out.cancelled()) {
      (*writer)->finish();
      // As `query --json` on the embedded store: a last line naming the part of the window
      // the rows lack (docs/query.md "Raw retention").
      if (missing && p->output.format == query::OutputFormat::JsonLines) {
        text << nlohmann::json{{"missing", query::missing_json(*missing, p->output.field.zone)}}
                    .dump()
             << '\n';
      }
      send();
    }
    if (write_failed) return Error{ErrorCode::Io, "the client went away"};
    nlohmann::json done = query_done(stats);
    if (missing) done["missing"] = query::missing_json(*missing, p->output.field.zone);
    return done;
  });

  query_->handle("stat", [this](RequestContext& ctx) -> Result<nlohmann::json> {
    auto spec = query::stat_spec_from_json(ctx.request.value("spec", nlohmann::json::object()));
    if (!spec) return spec.error();
    auto p = prepare(ctx.request, groups_.snapshot(), options_.clock());
    if (!p) return p.error();
    spec->where = restrict_selection(std::move(spec->where), ctx.principal, p->groups.get());
    p->exec.force_scan = ctx.request.value("raw", false);
    auto result = query::execute_stat(*backend_, *spec, p->exec);
    if (!result) return result.error();
    query::span_window_buckets(*spec, *result);  // -w spans the whole -t window
    result->missing = query::raw_retention_gap(spec->where.begin_ms, to_ms(options_.clock()),
                                               raw_keep_ms(), result->stats.source);
    std::ostringstream text;
    query::write_stat(text, *spec, *result, p->output);
    if (auto r = ctx.out.header({}); !r) return r.error();
    if (auto r = ctx.out.text(text.str(), result->rows.size()); !r) return r.error();
    nlohmann::json done{{"source", result->stats.source},
                        {"rows_read", result->stats.scan.rows_read},
                        {"saturated", result->saturated}};
    if (result->missing) {
      done["missing"] = query::missing_json(*result->missing, p->output.field.zone);
    }
    // `report -srv`: the numbers themselves, typed (query/typed_json.h).
    if (ctx.request.value("typed", false)) done["result"] = query::typed_stat_result(*result);
    // `stat -srv -g`: what the client's graph draws (query/stat_graph.h).
    if (ctx.request.value("graph", false) && spec->bucket_ms > 0) {
      done["graph"] = query::to_json(query::graph_data(*result, p->output.field.zone));
    }
    return done;
  });
}

}  // namespace flowscope::server
