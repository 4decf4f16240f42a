// GET /api/v1/sessions (docs/http.md): raw sessions as JSON pages or streamed CSV, through the
// same execute_query as `flowscope query`, with the caller's permissions attached as a tree.
//
// Paging is by key, not by offset: without `sort` the sessions come ordered by (start_time,
// session_id), and a page's `next_cursor` holds the last row's pair and the window the first
// page resolved. The next page asks for the rows strictly after that pair within that frozen
// window, so sessions appended while a client pages (ingest goes on) neither shift the pages
// nor repeat a row; those that land after the cursor show up in later pages, those before it
// not (they were not there when the client read that part).
#include <cstring>
#include <sstream>

#include <fmt/format.h>
#include <httplib.h>
#include <sodium.h>

#include "query/filter.h"
#include "query/output.h"
#include "server/http_query.h"
#include "server/http_server.h"
#include "server/server.h"

namespace flowscope::server {
namespace {

constexpr std::uint64_t kDefaultLimit = 100;
constexpr std::uint64_t kMaxPage = 10000;

struct Cursor {
  std::int64_t start_ms = 0;
  std::uint64_t session_id = 0;
  std::int64_t begin_ms = 0;
  std::int64_t end_ms = 0;
};

std::string encode_cursor(const Cursor& c) {
  const std::string text = nlohmann::json{
      {"t", c.start_ms},
      {"id", c.session_id},
      {"b", c.begin_ms},
      {"e", c.end_ms}}.dump();
  std::string out(sodium_base64_ENCODED_LEN(text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                    text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

Result<Cursor> decode_cursor(const std::string& text) {
  Error bad{ErrorCode::InvalidArgument,
            "cursor is not one this server gave; pass next_cursor of the previous page as it is"};
  std::string raw(text.size(), '\0');
  std::size_t len = 0;
  if (text.size() > 512 ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return bad;
  }
  raw.resize(len);
  auto j = nlohmann::json::parse(raw, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad;
  Cursor c;
  try {
    c.start_ms = j.at("t").get<std::int64_t>();
    c.session_id = j.at("id").get<std::uint64_t>();
    c.begin_ms = j.at("b").get<std::int64_t>();
    c.end_ms = j.at("e").get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
    return bad;
  }
  return c;
}

query::FilterExpr compare(FieldId field, Comparator op, query::FilterValue value) {
  query::Comparison c;
  c.field = field;
  c.op = op;
  c.value = std::move(value);
  return query::FilterExpr::compare(std::move(c));
}

// Rows after the cursor's (start_time, session_id), as a tree (never text).
query::FilterExpr after(const Cursor& c) {
  using query::FilterExpr;
  FilterExpr later = compare(FieldId::StartTime, Comparator::Gt, c.start_ms);
  FilterExpr same =
      FilterExpr::make(FilterExpr::Op::And,
                       {compare(FieldId::StartTime, Comparator::Eq, c.start_ms),
                        compare(FieldId::SessionId, Comparator::Gt, std::uint64_t{c.session_id})});
  return FilterExpr::make(FilterExpr::Op::Or, {std::move(later), std::move(same)});
}

Result<std::vector<FieldId>> fields_of(const Params& params) {
  const std::string* text = find_param(params, "fields");
  if (text == nullptr || text->empty()) return query::default_query_fields();
  return query::parse_field_list(*text);
}

Result<HttpReply> sessions(Server& server, HttpCall& call) {
  auto ctx = query_context(server, call.params);
  if (!ctx) return ctx.error();
  auto where = request_selection(call.params, *ctx, *call.principal);
  if (!where) return where.error();
  if (auto r = check_filter(*where, *ctx); !r) return r.error();
  query::QuerySpec spec;
  spec.where = std::move(*where);
  auto fields = fields_of(call.params);
  if (!fields) return fields.error();
  spec.fields = std::move(*fields);

  const std::string* format = find_param(call.params, "format");
  const bool csv = (format != nullptr && *format == "csv") ||
                   (format == nullptr &&
                    call.request.get_header_value("Accept").find("text/csv") != std::string::npos);
  if (format != nullptr && *format != "csv" && *format != "json") {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("format \"{}\" is not json or csv", *format)};
  }
  std::uint64_t limit = csv ? 0 : kDefaultLimit;
  if (const std::string* l = find_param(call.params, "limit")) {
    auto n = json_uint(nlohmann::json(*l), "limit", csv ? ~std::uint64_t{0} : kMaxPage);
    if (!n) {
      return Error{n.error().code,
                   n.error().message + "; page through more with cursor=next_cursor"};
    }
    limit = *n;
    if (!csv && limit == 0) limit = kDefaultLimit;
  }
  const std::string* sort = find_param(call.params, "sort");
  const std::string* cursor_text = find_param(call.params, "cursor");
  if (sort != nullptr && !sort->empty()) {
    if (cursor_text != nullptr) {
      return Error{ErrorCode::InvalidArgument,
                   "cursor pages follow (start_time, session_id); leave out sort to page, or use "
                   "sort with limit for a top N"};
    }
    std::string_view rest = *sort;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      auto k = query::parse_sort_key(rest.substr(0, comma));
      if (!k) return k.error();
      spec.sort.push_back(*k);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  } else {
    spec.sort = {{FieldId::StartTime, false}, {FieldId::SessionId, false}};
  }
  const bool paging = spec.sort.size() == 2 && spec.sort[0].field == FieldId::StartTime &&
                      spec.sort[1].field == FieldId::SessionId &&
                      (sort == nullptr || sort->empty());
  const std::int64_t now_ms = ctx->now.time_since_epoch().count();
  Cursor frozen{0, 0, spec.where.begin_ms, std::min(spec.where.end_ms, now_ms + 1)};
  if (cursor_text != nullptr) {
    auto c = decode_cursor(*cursor_text);
    if (!c) return c.error();
    frozen = *c;
    spec.where.begin_ms = std::max(c->begin_ms, c->start_ms);
    spec.where.end_ms = c->end_ms;
    auto more = after(*c);
    spec.where.restriction = std::make_shared<const query::FilterExpr>(
        spec.where.restriction ? query::and_of(*spec.where.restriction, std::move(more))
                               : std::move(more));
  } else if (paging) {
    spec.where.end_ms = frozen.end_ms;  // the window every later page keeps
  }
  // The cursor needs the last row's pair, whatever columns were asked for.
  std::vector<FieldId> shown = spec.fields;
  for (FieldId f : {FieldId::StartTime, FieldId::SessionId}) {
    if (std::find(spec.fields.begin(), spec.fields.end(), f) == spec.fields.end()) {
      spec.fields.push_back(f);
    }
  }
  query::OutputOptions out;
  out.format = csv ? query::OutputFormat::CsvHeader : query::OutputFormat::JsonLines;
  out.field.zone = ctx->zone;

  if (csv) {
    // Streamed: rows go out as the scan finds them (chunked transfer), never held whole.
    auto shared_ctx = std::make_shared<QueryContext>(std::move(*ctx));
    auto shared_spec = std::make_shared<query::QuerySpec>(std::move(spec));
    shared_spec->limit = limit;
    Server* s = &server;
    call.response.set_chunked_content_provider(
        "text/csv", [s, shared_ctx, shared_spec, shown, out](std::size_t, httplib::DataSink& sink) {
          std::ostringstream text;
          auto writer = query::RowWriter::create(text, shown, out);
          if (!writer) {
            sink.done();
            return true;
          }
          auto flush = [&] {
            const std::string chunk = text.str();
            text.str("");
            return chunk.empty() || sink.write(chunk.data(), chunk.size());
          };
          auto stats = query::execute_query(
              s->store(), *shared_spec,
              [&](const SessionBatch& rows) {
                (*writer)->write(rows);
                return flush();
              },
              shared_ctx->exec);
          (*writer)->finish();
          flush();
          sink.done();
          return true;
        });
    return HttpReply{200, nullptr, true};
  }

  spec.limit = limit + (paging ? 1 : 0);  // one more tells whether another page exists
  std::ostringstream text;
  auto writer = query::RowWriter::create(text, shown, out);
  if (!writer) return writer.error();
  std::uint64_t seen = 0;
  Cursor last = frozen;
  auto stats = query::execute_query(
      server.store(), spec,
      [&](const SessionBatch& rows) {
        // Only the first `limit` rows are shown; the extra one only says "more".
        for (std::size_t row = 0; row < rows.size(); ++row) {
          if (seen == limit) break;
          ++seen;
          last.start_ms = rows.get<FieldId::StartTime>(row);
          last.session_id = rows.get<FieldId::SessionId>(row);
        }
        (*writer)->write(rows);
        return true;
      },
      ctx->exec);
  if (!stats) return stats.error();
  (*writer)->finish();
  nlohmann::json rows = nlohmann::json::array();
  std::istringstream lines(text.str());
  for (std::string line; std::getline(lines, line) && rows.size() < limit;) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(valid_utf8(line)));
  }
  nlohmann::json names = nlohmann::json::array();
  for (FieldId f : shown) names.push_back(field_info(f).name);
  nlohmann::json body = {{"fields", std::move(names)}, {"rows", std::move(rows)},
                         {"source", stats->source},    {"rows_read", stats->scan.rows_read},
                         {"next_cursor", nullptr},     {"missing", nullptr}};
  if (const auto gap = query::raw_retention_gap(spec.where.begin_ms, to_ms(ctx->now),
                                                server.raw_keep_ms(), stats->source)) {
    body["missing"] = query::missing_json(*gap, ctx->zone);
  }
  if (paging && stats->rows_returned > limit) body["next_cursor"] = encode_cursor(last);
  return HttpReply{200, std::move(body)};
}

}  // namespace

std::vector<Route> sessions_routes(Server& server) {
  Server* s = &server;
  std::vector<RouteParam> params = {
      {"filter", "query", "string", "a filter in FlowTraq's syntax (docs/query.md)", false, {}},
      {"syntax", "query", "string", "flowtraq (default) or nfdump", false, {"flowtraq", "nfdump"}},
      {"from", "query", "string", "start time (docs/time.md), with to", false, {}},
      {"to", "query", "string", "end time, exclusive", false, {}},
      {"window", "query", "string", "a window as -t takes it (default 15m; all)", false, {}},
      {"tz", "query", "string", "time zone of local times (default UTC)", false, {}},
      {"fields", "query", "string", "columns, comma-separated field names", false, {}},
      {"sort", "query", "string", "FIELD[:asc|:desc],... (no cursor then)", false, {}},
      {"limit",
       "query",
       "integer",
       "rows per page (default 100, at most 10000; CSV: 0 = all)",
       false,
       {}},
      {"cursor", "query", "string", "next_cursor of the previous page", false, {}},
      {"format",
       "query",
       "string",
       "json (default) or csv (streamed; also Accept: text/csv)",
       false,
       {"json", "csv"}},
  };
  return {{"GET", "/api/v1/sessions", Access::User, "raw sessions, paged by cursor, or CSV",
           std::move(params), "Sessions", [s](HttpCall& c) { return sessions(*s, c); }}};
}

}  // namespace flowscope::server
