// The query protocol's built-in requests (docs/protocol.md "Requests"):
//   stats     what the server received and stored (any role)
//   sessions  raw sessions of a time window, filtered by the user's data permissions, streamed
// The filter-language requests (query, stat) are registered by query_handlers.cpp.
#include <algorithm>

#include <fmt/format.h>

#include "core/field_format.h"
#include "query/compiled_filter.h"
#include "server/permission_filter.h"
#include "server/server.h"

namespace flowscope::server {
namespace {

constexpr std::size_t kRowsPerFrame = 1000;

Result<std::vector<FieldId>> columns_of(const nlohmann::json& request) {
  if (!request.contains("columns")) {
    const auto defaults = default_columns(Surface::Server);  // core/fields.def, column Columns
    return std::vector<FieldId>(defaults.begin(), defaults.end());
  }
  std::vector<FieldId> out;
  for (const auto& c : request["columns"]) {
    if (!c.is_string()) return Error{ErrorCode::InvalidArgument, "columns must be names"};
    const std::string name = c.get<std::string>();
    auto id = find_field(RecordKind::Session, name);
    if (!id || SessionBatch::column_index(*id) < 0) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("\"{}\" is not a stored session field; see 'flowscope fields "
                               "--kind session'",
                               name)};
    }
    out.push_back(*id);
  }
  return out;
}

}  // namespace

void Server::register_handlers() {
  register_query_handlers();
  query_->handle("stats", [this](RequestContext&) -> Result<nlohmann::json> {
    const IngestStats in = ingest_ ? ingest_->stats() : IngestStats{};
    const PipelineStats p = pipeline_->stats();
    std::uint64_t rows = 0;
    std::uint64_t segments = 0;
    // With ClickHouse behind ([store] backend) there are no segments here: zeros.
    for (const store::PartitionStats& s :
         store_ ? store_->partition_stats() : std::vector<store::PartitionStats>{}) {
      if (s.level != store::Level::Raw) continue;
      rows += s.rows;
      segments += s.segments;
    }
    const auto snap = store_ ? store_->snapshot() : nullptr;
    return nlohmann::json{
        {"stats",
         {{"datagrams", in.datagrams},
          {"records", in.records},
          {"exporters", in.exporters.size()},
          {"drops",
           {{"socket", in.kernel_drops}, {"queue", in.queue_drops}, {"decode", in.decode_drops}}},
          {"sessions_stored", p.sessions},
          {"open_sessions", p.open_sessions},
          {"sealed_rows", rows},
          {"segments", segments},
          {"tail_rows", snap ? snap->tail_rows : 0}}}};
  });

  query_->handle("sessions", [this](RequestContext& ctx) -> Result<nlohmann::json> {
    auto columns = columns_of(ctx.request);
    if (!columns) return columns.error();
    store::ScanRequest scan;
    if (ctx.request.contains("begin_ms"))
      scan.begin_ms = ctx.request["begin_ms"].get<std::int64_t>();
    if (ctx.request.contains("end_ms")) scan.end_ms = ctx.request["end_ms"].get<std::int64_t>();
    const std::uint64_t limit = uint_field(ctx.request, "limit");
    const std::size_t chunk_rows =
        std::clamp<std::size_t>(uint_field(ctx.request, "chunk", kRowsPerFrame), 1, 10000);
    scan.columns = *columns;
    // The same permission tree as query and stat (server/permission_filter.h), compiled; its
    // columns are read whatever the request shows.
    const auto groups = groups_.snapshot();
    auto allowed = query::CompiledFilter::compile(permission_filter(ctx.principal, groups.get()));
    if (!allowed) return allowed.error();
    for (const store::ScanPredicate& p : allowed->pushdown()) scan.predicates.push_back(p);
    for (FieldId id : allowed->columns()) {
      if (std::find(scan.columns.begin(), scan.columns.end(), id) == scan.columns.end()) {
        scan.columns.push_back(id);
      }
    }
    std::vector<std::string> names;
    for (FieldId id : *columns) names.emplace_back(field_info(id).name);
    if (auto r = ctx.out.header(names); !r) return r.error();
    if (ctx.out.cancelled()) return nlohmann::json::object();
    nlohmann::json chunk = nlohmann::json::array();
    std::uint64_t matched = 0;
    bool write_failed = false;
    auto flush = [&] {
      if (chunk.empty()) return true;
      if (!ctx.out.rows(std::move(chunk))) {
        write_failed = true;
        return false;
      }
      chunk = nlohmann::json::array();
      return !ctx.out.cancelled();
    };
    std::vector<std::uint32_t> visible;
    auto stats = backend_->scan(scan, [&](const SessionBatch& batch) {
      allowed->select_rows(batch, visible);
      for (const std::uint32_t row : visible) {
        nlohmann::json r = nlohmann::json::array();
        for (FieldId id : *columns) r.push_back(format_field(batch.column(id), row));
        chunk.push_back(std::move(r));
        ++matched;
        if (limit != 0 && matched >= limit) {
          flush();
          return false;
        }
        if (chunk.size() >= chunk_rows && !flush()) return false;
      }
      return true;
    });
    if (!stats) return stats.error();
    if (!write_failed) flush();
    if (write_failed) return Error{ErrorCode::Io, "the client went away"};
    return nlohmann::json{{"rows_read", stats->rows_read}};
  });
}

}  // namespace flowscope::server
