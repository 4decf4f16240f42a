// The JSON API under /api/v1 (docs/http.md): login and logout, statistics, fields, exporters,
// IP information, health, the OpenAPI document; /metrics and /healthz. Raw sessions are in
// http_sessions.cpp, admin routes in http_admin.cpp.
#include <sstream>

#include <fmt/format.h>
#include <httplib.h>

#include "enrich/ip_groups.h"
#include "query/field_json.h"
#include "query/filter_parser.h"
#include "query/output.h"
#include "server/http_query.h"
#include "server/http_server.h"
#include "server/permission_filter.h"
#include "server/server.h"

namespace flowscope::server {

Result<QueryContext> query_context(Server& server, const Params& params) {
  QueryContext ctx;
  const std::string* tz = find_param(params, "tz");
  auto zone = TimeZoneRef::named(tz != nullptr && !tz->empty() ? *tz : "UTC");
  if (!zone) return zone.error();
  ctx.zone = *zone;
  ctx.now = server.now();
  ctx.groups = server.ip_groups();
  ctx.exec.filter.time = TimeContext{ctx.now, ctx.zone};
  const enrich::IpGroups* g = ctx.groups.get();
  ctx.exec.filter.groups = [g](std::string_view name) -> std::optional<std::uint32_t> {
    const enrich::IpGroup* found = g != nullptr ? g->find(name) : nullptr;
    if (found == nullptr) return std::nullopt;
    return found->id;
  };
  return ctx;
}

Result<query::Selection> request_selection(const Params& params, const QueryContext& ctx,
                                           const Principal& who, std::string_view default_window) {
  query::Selection where;
  if (const std::string* f = find_param(params, "filter")) where.filter = *f;
  if (const std::string* s = find_param(params, "syntax")) {
    if (*s == "nfdump") {
      where.syntax = query::FilterSyntax::Nfdump;
    } else if (*s != "flowtraq" && !s->empty()) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("syntax \"{}\" is not flowtraq or nfdump", *s)};
    }
  }
  const TimeContext tctx{ctx.now, ctx.zone};
  const std::string* from = find_param(params, "from");
  const std::string* to = find_param(params, "to");
  if (from != nullptr || to != nullptr) {
    if (from != nullptr) {
      auto t = parse_time(*from, tctx);
      if (!t) return Error{t.error().code, "from: " + t.error().message};
      where.begin_ms = t->time_since_epoch().count();
    }
    if (to != nullptr) {
      auto t = parse_time(*to, tctx);
      if (!t) return Error{t.error().code, "to: " + t.error().message};
      where.end_ms = t->time_since_epoch().count();
    }
  } else {
    const std::string* w = find_param(params, "window");
    const std::string text = w != nullptr ? *w : std::string(default_window);
    if (text != "all") {
      auto win = parse_window(text, tctx);
      if (!win) return Error{win.error().code, "window: " + win.error().message};
      where.begin_ms = win->begin.time_since_epoch().count();
      where.end_ms = win->end.time_since_epoch().count();
    }
  }
  return restrict_selection(std::move(where), who, ctx.groups.get());
}

Result<void> check_filter(const query::Selection& where, const QueryContext& ctx) {
  auto parsed = where.syntax == query::FilterSyntax::Nfdump
                    ? query::parse_nfdump_filter(where.filter, ctx.exec.filter)
                    : query::parse_filter(where.filter, ctx.exec.filter);
  if (!parsed) return parsed.error();
  return {};
}

namespace {

nlohmann::json body_or_form(const HttpCall& call) {
  if (!call.request.body.empty() &&
      call.request.get_header_value("Content-Type").find("json") != std::string::npos) {
    auto j = nlohmann::json::parse(call.request.body, nullptr, false);
    if (!j.is_discarded()) return j;
    return nullptr;
  }
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : call.params) j[k] = v;
  return j;
}

// GET /api/v1/stat: `flowscope stat` over HTTP. The rows are the JSON lines of `stat --json`
// (query/output.h write_stat), so the answer is the CLI's, value for value.
Result<HttpReply> stat(Server& server, HttpCall& call) {
  auto ctx = query_context(server, call.params);
  if (!ctx) return ctx.error();
  query::StatSpec spec;
  auto where = request_selection(call.params, *ctx, *call.principal);
  if (!where) return where.error();
  spec.where = std::move(*where);
  const std::string* group = find_param(call.params, "group");
  auto keys = query::parse_group_spec(group != nullptr ? *group : "host");
  if (!keys) return keys.error();
  spec.group_by = std::move(*keys);
  if (const std::string* count = find_param(call.params, "count")) {
    if (auto r = query::parse_count_spec(*count, spec); !r) return r.error();
  }
  if (const std::string* dir = find_param(call.params, "dir")) {
    if (*dir == "snd") {
      spec.side = query::Side::Send;
    } else if (*dir == "rcv") {
      spec.side = query::Side::Receive;
    } else if (!dir->empty() && *dir != "both") {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("dir \"{}\" is not snd, rcv or both", *dir)};
    }
  }
  if (const std::string* top = find_param(call.params, "top")) {
    auto n = json_uint(nlohmann::json(*top), "top", 100000);
    if (!n) return n.error();
    spec.top = *n;
  }
  if (const std::string* series = find_param(call.params, "series")) {
    auto d = parse_duration(*series);
    if (!d || d->count() <= 0) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("series \"{}\" is not a bucket size; use e.g. 5m or 1h", *series)};
    }
    spec.bucket_ms = d->count();
  }
  const std::string* others = find_param(call.params, "others");
  const bool with_others = others == nullptr || *others != "0";
  const std::string* raw = find_param(call.params, "raw");
  ctx->exec.force_scan = raw != nullptr && *raw == "1";
  auto result = query::execute_stat(server.store(), spec, ctx->exec);
  if (!result) return result.error();
  result->missing = query::raw_retention_gap(spec.where.begin_ms, to_ms(ctx->now),
                                             server.raw_keep_ms(), result->stats.source);
  query::OutputOptions out;
  out.format = query::OutputFormat::JsonLines;
  out.field.zone = ctx->zone;
  std::ostringstream text;
  query::write_stat(text, spec, *result, out);
  nlohmann::json body = {
      {"source", result->stats.source},      {"rows_read", result->stats.scan.rows_read},
      {"group_by", nlohmann::json::array()}, {"count", query::count_name(spec.count)},
      {"side", query::side_name(spec.side)}, {"rows", nlohmann::json::array()},
      {"saturated", result->saturated},      {"missing", nullptr}};
  if (result->missing) body["missing"] = query::missing_json(*result->missing, ctx->zone);
  for (const query::GroupKey& k : spec.group_by) body["group_by"].push_back(group_key_text(k));
  std::istringstream lines(text.str());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto row = nlohmann::json::parse(valid_utf8(line));
    // write_stat flags its others and total rows ("others": true, "total": true).
    if (row.value("others", false)) {
      if (with_others) body["others"] = std::move(row);
    } else if (row.value("total", false)) {
      body["total"] = std::move(row);
    } else {
      body["rows"].push_back(std::move(row));
    }
  }
  return HttpReply{200, std::move(body)};
}

Result<HttpReply> exporters(Server& server, HttpCall& call) {
  const IngestStats in = server.ingest().stats();
  const auto ifaces = server.interfaces().snapshot();
  const double uptime_s = std::max<double>(1.0, (server.now() - server.started()).count() / 1000.0);
  nlohmann::json list = nlohmann::json::array();
  const Principal& who = *call.principal;
  for (const auto& [exporter_address, e] : in.exporters) {
    const IpAddress address = exporter_address;  // a lambda below needs it (clang 14)
    // A user whose groups name exporters sees those only (their data permissions).
    if (!who.all_data) {
      bool visible = false;
      for (const GroupPerms& g : who.groups) {
        if (g.exporters.empty() && g.interfaces.empty() && !g.restricted) visible = true;
        for (const IpAddress& x : g.exporters) visible = visible || x == address;
        for (const InterfaceGrant& i : g.interfaces) visible = visible || i.exporter == address;
      }
      if (!visible) continue;
    }
    nlohmann::json errors = nlohmann::json::object();
    for (std::size_t k = 0; k < decode::kDecodeErrorCount; ++k) {
      if (e.decode.errors[k] != 0) {
        errors[std::string(decode::decode_error_name(static_cast<decode::DecodeError>(k)))] =
            e.decode.errors[k];
      }
    }
    nlohmann::json interfaces = nlohmann::json::array();
    ifaces->for_each(
        [&](const IpAddress& exporter, std::uint32_t index, const enrich::InterfaceInfo& info) {
          if (!(exporter == address)) return;
          interfaces.push_back({{"index", index},
                                {"name", info.name},
                                {"description", info.description},
                                {"speed_bps", info.speed_bps}});
        });
    list.push_back({{"address", fmt::format("{}", address)},
                    {"packets", e.decode.packets},
                    {"records", e.decode.records},
                    {"records_per_second", static_cast<double>(e.decode.records) / uptime_s},
                    {"templates", e.decode.templates},
                    {"sequence_gaps", e.decode.sequence_gaps},
                    {"restarts", e.decode.restarts},
                    {"uptime_wraps", e.decode.uptime_wraps},
                    {"drops", {{"queue", e.queue_drops}, {"decode", e.decode.dropped}}},
                    {"decode_errors", std::move(errors)},
                    {"interfaces", std::move(interfaces)}});
  }
  return HttpReply{
      200,
      {{"exporters", std::move(list)},
       {"uptime_s", uptime_s},
       {"drops",
        {{"socket", in.kernel_drops}, {"queue", in.queue_drops}, {"decode", in.decode_drops}}}}};
}

Result<HttpReply> ipinfo(Server& server, HttpCall& call) {
  auto address = IpAddress::parse(call.path.at(0));
  if (!address) {
    return Error{
        ErrorCode::InvalidArgument,
        fmt::format("\"{}\" is not an IP address; e.g. /api/v1/ipinfo/192.0.2.1", call.path.at(0))};
  }
  nlohmann::json body = {{"address", fmt::format("{}", *address)}};
  if (auto info = server.ip_info().get(*address); info && !info->name.empty()) {
    body["name"] = info->name;
  }
  const auto groups = server.ip_groups();
  if (const std::uint32_t id = groups->lookup(*address); id != 0) {
    const enrich::IpGroup* g = groups->group(id);
    body["ip_group"] = {{"id", id}, {"name", g != nullptr ? g->name : ""}};
  }
  if (const auto geo = server.geo_snapshot()) {
    if (const enrich::GeoLocation* loc = geo->location(*address)) {
      body["country"] = std::string(loc->country.view());
      if (loc->city != 0) body["city"] = std::string(geo->text(loc->city));
    }
    if (const enrich::AsInfo* as = geo->as_info(*address)) {
      body["asn"] = as->asn;
      if (as->org != 0) body["as_org"] = std::string(geo->text(as->org));
    }
  }
  return HttpReply{200, std::move(body)};
}

// The Set-Cookie of the dashboard's session key (value empty and Max-Age=0: remove it). Secure
// over HTTPS; Path=/ so that the API under /api/v1 gets it from pages at /.
std::string key_cookie(std::string_view key, bool tls) {
  return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict{}{}", kKeyCookie, key,
                     key.empty() ? "; Max-Age=0" : "", tls ? "; Secure" : "");
}

// POST /api/v1/login. With "cookie": true (the dashboard) the key goes into an HttpOnly cookie
// instead of the body, so that no script on the page can read it, and the answer carries the
// CSRF token that later POST and DELETE requests on the cookie must send. That form takes JSON
// only: a cross-site HTML form cannot send application/json without a CORS preflight, which
// this server never grants, so another site cannot log a browser in to an account of its own.
Result<HttpReply> login(Server& server, HttpCall& call) {
  const nlohmann::json in = body_or_form(call);
  if (!in.is_object() || !in.contains("user") || !in.contains("password") ||
      !in["user"].is_string() || !in["password"].is_string()) {
    return Error{ErrorCode::InvalidArgument,
                 "the body is not {\"user\": ..., \"password\": ...}; send JSON or a form with "
                 "user and password"};
  }
  const bool cookie = in.contains("cookie") && in["cookie"] == true;
  if (cookie &&
      call.request.get_header_value("Content-Type").find("application/json") == std::string::npos) {
    return Error{ErrorCode::InvalidArgument,
                 "a login with \"cookie\": true must be a JSON body; send Content-Type: "
                 "application/json"};
  }
  auto ok = server.auth().login(in["user"].get<std::string>(), in["password"].get<std::string>(),
                                call.peer, /*want_key=*/true);
  if (!ok) {
    const std::string& m = ok.error().message;
    const std::string code = m.substr(0, m.find(':'));
    HttpReply r;
    r.status = code == "throttled" ? 429 : 401;
    r.body = {{"error",
               {{"code", code},
                {"message", m.substr(std::min(m.size(), code.size() + 2))},
                {"hint", "check the user name and password (flowscope user list)"}}}};
    return r;
  }
  const ServerConfig config = server.config();
  nlohmann::json body = {{"user", ok->principal.user},
                         {"role", role_name(ok->principal.role)},
                         {"idle_expiry_s", config.auth.key_idle.count() / 1000},
                         {"max_age_s", config.auth.max_key_age.count() / 1000}};
  if (cookie) {
    call.response.set_header("Set-Cookie", key_cookie(ok->key, config.http.tls));
    body["csrf"] = csrf_token(ok->key);
  } else {
    body["key"] = ok->key;
  }
  return HttpReply{200, std::move(body)};
}

// GET /api/v1/me: who the credential is, and (for a session key) its CSRF token.
Result<HttpReply> me(Server& server, HttpCall& call) {
  const Principal& p = *call.principal;
  nlohmann::json groups = nlohmann::json::array();
  for (const GroupPerms& g : p.groups) groups.push_back(g.name);
  nlohmann::json body = {{"user", p.user},
                         {"role", role_name(p.role)},
                         {"admin", p.role == Role::Admin},
                         {"groups", std::move(groups)},
                         {"all_data", p.all_data}};
  if (!call.bearer.empty()) {
    body["csrf"] = csrf_token(call.bearer);
    body["idle_expiry_s"] = server.config().auth.key_idle.count() / 1000;
  }
  return HttpReply{200, std::move(body)};
}

RouteParam window_param(std::string_view name, std::string_view what) {
  return {name, "query", "string", what, false, {}};
}

std::vector<RouteParam> selection_params() {
  return {
      {"filter", "query", "string", "a filter in FlowTraq's syntax (docs/query.md)", false, {}},
      {"syntax", "query", "string", "flowtraq (default) or nfdump", false, {"flowtraq", "nfdump"}},
      window_param("from", "start time (docs/time.md), with to"),
      window_param("to", "end time, exclusive"),
      window_param("window", "a window as -t takes it (default 15m; all)"),
      {"tz", "query", "string", "time zone of local times (default UTC)", false, {}},
  };
}

}  // namespace

std::vector<Route> api_routes(Server& server) {
  Server* s = &server;
  std::vector<Route> r;
  r.push_back({"POST",
               "/api/v1/login",
               Access::Public,
               "log in: a session key bound to the client address",
               {{"user", "body", "string", "user name", true, {}},
                {"password", "body", "string", "password", true, {}}},
               "Login",
               [s](HttpCall& c) { return login(*s, c); }});
  r.push_back({"POST",
               "/api/v1/logout",
               Access::User,
               "end the session key of the request",
               {},
               "Ok",
               [s](HttpCall& c) -> Result<HttpReply> {
                 if (c.via_cookie) {
                   c.response.set_header("Set-Cookie", key_cookie("", s->config().http.tls));
                 }
                 if (c.bearer.empty()) {
                   return Error{ErrorCode::InvalidArgument,
                                "logout ends a session key; this request used an API token "
                                "(revoke it with DELETE /api/v1/admin/tokens/{id})"};
                 }
                 s->auth().end_key(c.bearer, c.peer);
                 return HttpReply{200, {{"ok", true}}};
               }});
  r.push_back({"GET",
               "/api/v1/me",
               Access::User,
               "the caller: user, role, groups; the CSRF token of a session key (the dashboard)",
               {},
               "Me",
               [s](HttpCall& c) { return me(*s, c); }});
  r.push_back({"GET",
               "/api/v1/health",
               Access::Public,
               "whether the collector receives and stores",
               {},
               "Health",
               [s](HttpCall&) -> Result<HttpReply> {
                 const bool ok = s->healthy();
                 const PipelineStats p = s->pipeline().stats();
                 return HttpReply{ok ? 200 : 503,
                                  {{"healthy", ok},
                                   {"sessions_stored", p.sessions},
                                   {"open_sessions", p.open_sessions},
                                   {"store_errors", p.store_errors}}};
               }});
  r.push_back({"GET",
               "/api/v1/fields",
               Access::User,
               "the session fields of the registry",
               {},
               "Fields",
               [](HttpCall&) -> Result<HttpReply> {
                 nlohmann::json all = nlohmann::json::array();
                 for (const FieldInfo& f : kFieldTable) {
                   if (in_kind(f, RecordKind::Session)) all.push_back(query::field_json(f));
                 }
                 return HttpReply{200, {{"fields", std::move(all)}}};
               }});
  std::vector<RouteParam> stat_params = selection_params();
  stat_params.push_back({"group",
                         "query",
                         "string",
                         "what to rank, as stat -grp: host, pair, port, a field or a tuple",
                         false,
                         {}});
  stat_params.push_back({"count",
                         "query",
                         "string",
                         "bytes, packets, sessions, uports, uhosts, unique:FIELD",
                         false,
                         {}});
  stat_params.push_back(
      {"dir", "query", "string", "snd or rcv (default both)", false, {"snd", "rcv", "both"}});
  stat_params.push_back({"top", "query", "integer", "rows before others (default 10)", false, {}});
  stat_params.push_back({"others", "query", "integer", "1 (default): the others row", false, {}});
  stat_params.push_back(
      {"series", "query", "string", "a time series per row, bucket e.g. 5m", false, {}});
  stat_params.push_back({"raw", "query", "integer", "1: never answer from rollups", false, {}});
  r.push_back({"GET", "/api/v1/stat", Access::User, "top N statistics, as flowscope stat",
               std::move(stat_params), "Stat", [s](HttpCall& c) { return stat(*s, c); }});
  r.push_back({"GET",
               "/api/v1/exporters",
               Access::User,
               "exporters: rates, drops by kind, templates, sequence loss, interfaces",
               {},
               "Exporters",
               [s](HttpCall& c) { return exporters(*s, c); }});
  r.push_back({"GET",
               "/api/v1/ipinfo/{addr}",
               Access::User,
               "what flowscope knows of an address: name, IP group, country, AS",
               {{"addr", "path", "string", "an IPv4 or IPv6 address", true, {}}},
               "IpInfo",
               [s](HttpCall& c) { return ipinfo(*s, c); }});
  r.push_back({"GET",
               "/api/v1/openapi.json",
               Access::Public,
               "this API as an OpenAPI 3 document (generated from the route table)",
               {},
               "OpenApi",
               [s](HttpCall&) -> Result<HttpReply> {
                 return HttpReply{200, openapi_document(s->http_server().routes())};
               }});
  r.push_back({"GET",
               "/metrics",
               Access::Metrics,
               "Prometheus metrics",
               {},
               "Text",
               [s](HttpCall& c) -> Result<HttpReply> {
                 c.response.set_content(s->metrics_text(),
                                        "text/plain; version=0.0.4; charset=utf-8");
                 return HttpReply{200, nullptr, true};
               }});
  r.push_back({"GET",
               "/healthz",
               Access::Metrics,
               "ok (200) or unhealthy (503)",
               {},
               "Text",
               [s](HttpCall& c) -> Result<HttpReply> {
                 const bool ok = s->healthy();
                 c.response.status = ok ? 200 : 503;
                 c.response.set_content(ok ? "ok\n" : "unhealthy\n", "text/plain");
                 return HttpReply{c.response.status, nullptr, true};
               }});
  for (Route& route : sessions_routes(server)) r.push_back(std::move(route));
  return r;
}

}  // namespace flowscope::server
