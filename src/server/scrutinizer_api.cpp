// Scrutinizer compatibility at /fcgi/scrut_fcgi.fcgi (docs/http.md "Scrutinizer"): the run
// modes its API scripts and its Grafana data source call, answered from flowscope's store with
// the caller's data permissions (attached as a parsed tree, as everywhere):
//   rm=report_api&action=get   rpt_json + data_requested -> report.table / report.graph
//   rm=report_start            report_data -> report_object.dataGranularity.used
//   rm=get_known_objects       type=devices | deviceGroups
//   rm=status&view=topInterfaces   interfaces, cell 5 {label, filterDrag: {searchStr}}
//   rm=user_api                scrutinizer_users.cpp
// Errors are Scrutinizer's {"err": ..., "details": ...} with HTTP 200 (http_server.cpp).
#include <fmt/format.h>
#include <httplib.h>

#include "enrich/ip_groups.h"
#include "query/output.h"
#include "server/http_query.h"
#include "server/http_server.h"
#include "server/permission_filter.h"
#include "server/scrutinizer_report.h"
#include "server/server.h"

namespace flowscope::server {

Result<nlohmann::json> user_api(Server& server, HttpCall& call);  // scrutinizer_users.cpp

namespace {

std::string hex_of(const IpAddress& a) {
  if (a.is_v4()) return fmt::format("{:08X}", a.v4_value());
  std::string out;
  for (const unsigned char b : a.bytes()) out += fmt::format("{:02X}", static_cast<unsigned>(b));
  return out;
}

std::string human(double value, std::string_view unit) {
  static constexpr const char* kPrefixes[] = {"", "K", "M", "G", "T", "P", "E"};
  std::size_t p = 0;
  while (value >= 1000.0 && p + 1 < std::size(kPrefixes)) {
    value /= 1000.0;
    ++p;
  }
  return p == 0 ? fmt::format("{:.0f} {}", value, unit)
                : fmt::format("{:.2f} {}{}", value, kPrefixes[p], unit);
}

nlohmann::json cell(const std::string& label, nlohmann::json raw) {
  return {{"label", label}, {"rawValue", std::move(raw)}};
}

struct Shaped {
  double value;
  std::string formatted;
};

// The table's value of a count in the report's unit (bits, percent) and rate/total.
Shaped shape(const ReportRequest& r, std::uint64_t count, std::uint64_t total, double seconds) {
  double v = static_cast<double>(count);
  std::string unit = r.spec.count == query::CountKind::Bytes     ? "B"
                     : r.spec.count == query::CountKind::Packets ? "pkts"
                                                                 : "flows";
  if (r.unit == ReportUnit::Percent) {
    v = total == 0 ? 0.0 : v * 100.0 / static_cast<double>(total);
    return {v, fmt::format("{:.2f}%", v)};
  }
  if (r.unit == ReportUnit::Bits && r.spec.count == query::CountKind::Bytes) {
    v *= 8;
    unit = "b";
  }
  if (r.rate) {
    v /= seconds;
    unit += "/s";
  }
  return {v, human(v, unit)};
}

std::string key_label(const query::StatResult& result, std::size_t k, std::size_t row,
                      const enrich::IpGroups* groups) {
  std::string text = query::stat_key_text(result, k, row);
  const FieldId f = result.group_by[k].field;
  if ((f == FieldId::ClnGroup || f == FieldId::SrvGroup) && groups != nullptr && !text.empty()) {
    if (const enrich::IpGroup* g = groups->group(static_cast<std::uint32_t>(std::stoul(text)))) {
      return g->name;
    }
  }
  return text;
}

Result<nlohmann::json> run_direction(Server& server, const Principal& who, const ReportRequest& r,
                                     const DirectionRequest& w, QueryContext& ctx,
                                     nlohmann::json& report, nlohmann::json& used) {
  query::StatSpec spec = r.spec;
  spec.where = restrict_selection(std::move(spec.where), who, ctx.groups.get());
  const std::uint64_t graph_rows = w.max_rows;
  spec.top = std::max<std::uint64_t>(w.offset + w.max_rows, graph_rows);
  if (spec.top == 0) spec.top = 1;
  if (w.timeseries) spec.bucket_ms = r.granularity_ms;
  auto result = query::execute_stat(server.store(), spec, ctx.exec);
  if (!result) return result.error();
  if (w.offset > 0 && w.offset >= result->total_groups) {
    return Error{ErrorCode::OutOfRange,
                 fmt::format("query_limit.offset {} is past the end: the report has {} rows; ask "
                             "for an offset below {}",
                             w.offset, result->total_groups, result->total_groups)};
  }
  const std::string dir(direction_name(w.direction));
  const double seconds =
      std::max(1.0, static_cast<double>(spec.where.end_ms - spec.where.begin_ms) / 1000.0);
  const std::uint64_t total = result->total.value;
  const enrich::IpGroups* groups = ctx.groups.get();
  if (w.table) {
    nlohmann::json columns = nlohmann::json::array({{{"key", "rank"}, {"label", "Rank"}}});
    for (const query::GroupKey& k : spec.group_by) {
      columns.push_back(
          {{"key", field_info(k.field).name}, {"label", field_info(k.field).description}});
    }
    // The ranked value (orderBy, in the unit and rate asked for), then the raw sums.
    columns.push_back({{"key", "value"}, {"label", r.order_by}});
    columns.push_back({{"key", "bytes"}, {"label", "sum_octetdeltacount"}});
    columns.push_back({{"key", "packets"}, {"label", "sum_packetdeltacount"}});
    columns.push_back({{"key", "flows"}, {"label", "flows"}});
    nlohmann::json rows = nlohmann::json::array();
    auto values = [&](nlohmann::json& row, const query::StatValues& v) {
      const Shaped s = shape(r, v.value, total, seconds);
      nlohmann::json c = cell(fmt::format("{}", s.value), v.value);
      c["formatted"] = s.formatted;
      row.push_back(std::move(c));
      row.push_back(cell(std::to_string(v.bytes), v.bytes));
      row.push_back(cell(std::to_string(v.packets), v.packets));
      row.push_back(cell(std::to_string(v.sessions), v.sessions));
    };
    const std::size_t end = std::min<std::size_t>(result->rows.size(), w.offset + w.max_rows);
    for (std::size_t i = w.offset; i < end; ++i) {
      nlohmann::json row = nlohmann::json::array({cell(std::to_string(i + 1), i + 1)});
      for (std::size_t k = 0; k < spec.group_by.size(); ++k) {
        const std::string label = key_label(*result, k, i, groups);
        row.push_back(cell(label, label));
      }
      values(row, result->rows[i]);
      rows.push_back(std::move(row));
    }
    query::StatValues rest = result->others;  // what is not in the page: past it, and others
    for (std::size_t i = end; i < result->rows.size(); ++i) {
      rest.value += result->rows[i].value;
      rest.bytes += result->rows[i].bytes;
      rest.packets += result->rows[i].packets;
      rest.sessions += result->rows[i].sessions;
    }
    // Footer rows line up with the columns: the label in the rank column, empty keys.
    auto footer_row = [&](const char* label, const query::StatValues& v) {
      nlohmann::json row = nlohmann::json::array({cell(label, nullptr)});
      for (std::size_t k = 0; k < spec.group_by.size(); ++k) row.push_back(cell("", nullptr));
      values(row, v);
      return row;
    };
    nlohmann::json others_row = footer_row("Other", rest);
    nlohmann::json total_row = footer_row("Total", result->total);
    report["table"][dir] = {
        {"columns", std::move(columns)},
        {"rows", std::move(rows)},
        {"total_rows", result->total_groups},
        {"offset", w.offset},
        {"footer", {{"others", std::move(others_row)}, {"total", std::move(total_row)}}}};
  }
  if (w.pie || w.timeseries) {
    const std::size_t shown = std::min<std::size_t>(result->rows.size(), graph_rows);
    nlohmann::json pie = nlohmann::json::array();
    nlohmann::json series = nlohmann::json::array();
    const std::size_t nb = result->buckets.size();
    auto points = [&](const std::vector<std::size_t>& series_rows) {
      nlohmann::json pts = nlohmann::json::array();
      for (std::size_t b = 0; b < nb; ++b) {
        std::uint64_t v = 0;
        for (std::size_t sr : series_rows) v += result->series[sr * nb + b];
        pts.push_back({result->buckets[b] / 1000, v});
      }
      return pts;
    };
    for (std::size_t i = 0; i < shown; ++i) {
      std::string label;
      for (std::size_t k = 0; k < spec.group_by.size(); ++k) {
        label += (k == 0 ? "" : " - ") + key_label(*result, k, i, groups);
      }
      pie.push_back({{"label", label}, {"value", result->rows[i].value}});
      if (w.timeseries) series.push_back(points({i}));
    }
    std::uint64_t other = result->others.value;
    std::vector<std::size_t> other_rows = {result->rows.size()};  // the others series is last
    for (std::size_t i = shown; i < result->rows.size(); ++i) {
      other += result->rows[i].value;
      other_rows.push_back(i);
    }
    if (result->other_groups > 0 || shown < result->rows.size()) {
      pie.push_back({{"label", "Other"}, {"value", other}});
      if (w.timeseries) series.push_back(points(other_rows));
    }
    if (w.pie) report["graph"]["pie"][dir] = std::move(pie);
    if (w.timeseries) report["graph"]["timeseries"][dir] = std::move(series);
  }
  used = result->stats.source;
  return nlohmann::json(nullptr);
}

nlohmann::json report_object(const ReportRequest& r, std::string_view source) {
  nlohmann::json granularity = {
      {"selected",
       r.granularity_auto ? nlohmann::json("auto") : nlohmann::json(r.granularity_ms / 60'000)},
      {"used", r.granularity_ms / 60'000}};
  if (!source.empty()) granularity["source"] = source;
  const std::string group = [&] {
    std::string g;
    for (const query::GroupKey& k : r.spec.group_by) {
      g += (g.empty() ? "" : ",") + std::string(field_info(k.field).name);
    }
    return g;
  }();
  return {
      {"reportTypeLang", r.type},
      {"reportDirections", {{"selected", direction_name(r.direction)}}},
      {"dataGranularity", std::move(granularity)},
      {"times",
       {{"dateRange", r.date_range},
        {"start", r.spec.where.begin_ms / 1000},
        {"end", r.spec.where.end_ms / 1000},
        {"clientTimezone", r.time_zone}}},
      {"orderBy", r.order_by},
      {"rateTotal", {{"selected", r.rate ? "rate" : "total"}}},
      {"bbp",
       {{"selected", r.unit == ReportUnit::Bits      ? "bits"
                     : r.unit == ReportUnit::Percent ? "percent"
                                                     : "bytes"}}},
      // The same question as `flowscope stat` (docs/http.md): for scripts and tests.
      {"flowscope",
       {{"group", group},
        {"count", query::count_name(r.spec.count)},
        {"side", query::side_name(r.spec.side)},
        {"filter", r.spec.where.restriction ? query::to_text(*r.spec.where.restriction) : ""}}}};
}

Result<nlohmann::json> report_api(Server& server, HttpCall& call) {
  const std::string* action = find_param(call.params, "action");
  if (action != nullptr && *action != "get") {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("report_api action \"{}\" is not supported; use action=get", *action)};
  }
  auto rpt = json_param(call.params, "rpt_json");
  if (!rpt) return rpt.error();
  if (rpt->is_null()) return Error{ErrorCode::InvalidArgument, "report_api needs rpt_json"};
  auto wanted = json_param(call.params, "data_requested");
  if (!wanted) return wanted.error();
  auto ctx = query_context(server, call.params);
  if (!ctx) return ctx.error();
  auto request = parse_report_request(*rpt, *wanted, ctx->now, ctx->groups.get());
  if (!request) return request.error();
  nlohmann::json report = nlohmann::json::object();
  std::string source;
  for (const DirectionRequest& w : request->wanted) {
    ReportRequest r = *request;
    if (w.direction != request->direction) {  // the other direction's fields and side
      nlohmann::json other = *rpt;
      other["reportDirections"] = {{"selected", direction_name(w.direction)}};
      auto again = parse_report_request(other, *wanted, ctx->now, ctx->groups.get());
      if (!again) return again.error();
      r = std::move(*again);
    }
    nlohmann::json used;
    if (auto done = run_direction(server, *call.principal, r, w, *ctx, report, used); !done) {
      return done.error();
    }
    if (used.is_string()) source = used.get<std::string>();
  }
  return nlohmann::json{{"report", std::move(report)},
                        {"report_object", report_object(*request, source)}};
}

Result<nlohmann::json> report_start(Server& server, HttpCall& call) {
  auto data = json_param(call.params, "report_data");
  if (!data) return data.error();
  if (data->is_null()) return Error{ErrorCode::InvalidArgument, "report_start needs report_data"};
  auto request =
      parse_report_request(*data, nlohmann::json(), server.now(), server.ip_groups().get());
  if (!request) return request.error();
  return nlohmann::json{{"report_object", report_object(*request, "")}};
}

struct Device {
  IpAddress address;
  std::map<std::uint32_t, std::string> interfaces;  // ifIndex -> name ("" unknown)
};

// Exporters the caller may see: from ingest, the interface table and the last day's stored
// sessions (through the stat executor, so that the caller's permissions apply).
Result<std::map<IpAddress, Device>> devices(Server& server, const Principal& who) {
  std::map<IpAddress, Device> out;
  auto ctx = query_context(server, {});
  if (!ctx) return ctx.error();
  query::StatSpec spec;
  spec.where.begin_ms = to_ms(ctx->now) - 86'400'000;
  spec.where.end_ms = to_ms(ctx->now) + 1;
  spec.where = restrict_selection(std::move(spec.where), who, ctx->groups.get());
  auto keys = query::parse_group_spec("exporter,iface");
  if (!keys) return keys.error();
  spec.group_by = std::move(*keys);
  spec.count = query::CountKind::Sessions;
  spec.top = 0;
  auto result = query::execute_stat(server.store(), spec, ctx->exec);
  if (!result) return result.error();
  for (std::size_t i = 0; i < result->rows.size(); ++i) {
    auto a = IpAddress::parse(query::stat_key_text(*result, 0, i));
    if (!a) continue;
    Device& d = out[*a];
    d.address = *a;
    const std::string index = query::stat_key_text(*result, 1, i);
    if (!index.empty() && index != "0") d.interfaces[static_cast<std::uint32_t>(std::stoul(index))];
  }
  if (who.all_data) {
    for (const auto& [address, e] : server.ingest().stats().exporters)
      out[address].address = address;
  }
  server.interfaces().snapshot()->for_each(
      [&](const IpAddress& exporter, std::uint32_t index, const enrich::InterfaceInfo& info) {
        auto it = out.find(exporter);
        if (it != out.end()) it->second.interfaces[index] = info.label();
      });
  return out;
}

std::string device_name(Server& server, const IpAddress& a) {
  if (auto info = server.ip_info().get(a); info && !info->name.empty()) return info->name;
  return fmt::format("{}", a);
}

Result<nlohmann::json> known_objects(Server& server, HttpCall& call) {
  const std::string* type = find_param(call.params, "type");
  const std::string t = type != nullptr ? *type : "";
  if (t == "deviceGroups") {
    return nlohmann::json::array({{{"id", "ALL"}, {"name", "All devices"}}});
  }
  if (t != "devices") {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("get_known_objects type \"{}\" is not devices or deviceGroups", t)};
  }
  auto all = devices(server, *call.principal);
  if (!all) return all.error();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [address, d] : *all) {
    nlohmann::json ifaces = nlohmann::json::array();
    for (const auto& [index, name] : d.interfaces) {
      ifaces.push_back({{"ifIndex", index},
                        {"name", name.empty() ? fmt::format("ifIndex {}", index) : name},
                        {"id", fmt::format("{}-{}", hex_of(address), index)}});
    }
    list.push_back({{"name", device_name(server, address)},
                    {"ip", fmt::format("{}", address)},
                    {"exporter_id", hex_of(address)},
                    {"interfaces", std::move(ifaces)}});
  }
  return list;
}

Result<nlohmann::json> top_interfaces(Server& server, HttpCall& call) {
  const std::string* view = find_param(call.params, "view");
  if (view == nullptr || *view != "topInterfaces") {
    return Error{ErrorCode::InvalidArgument, "status supports view=topInterfaces"};
  }
  auto state = json_param(call.params, "session_state");
  if (!state) return state.error();
  std::string search;
  if (state->is_object() && state->contains("search") && (*state)["search"].is_array()) {
    for (const auto& s : (*state)["search"]) {
      if (s.is_object() && s.value("column", "") == "exporter_search") {
        search = s.value("value", "");
      }
    }
  }
  auto all = devices(server, *call.principal);
  if (!all) return all.error();
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [address, d] : *all) {
    const std::string name = device_name(server, address);
    const std::string ip = fmt::format("{}", address);
    if (!search.empty() && ip.find(search) == std::string::npos &&
        name.find(search) == std::string::npos && hex_of(address) != search) {
      continue;
    }
    for (const auto& [index, if_name] : d.interfaces) {
      const std::string label = if_name.empty() ? fmt::format("ifIndex {}", index) : if_name;
      rows.push_back(nlohmann::json::array(
          {cell(name, name),
           cell(ip, ip),
           cell(hex_of(address), hex_of(address)),
           cell(std::to_string(index), index),
           cell(label, label),
           {{"label", label}, {"filterDrag", {{"searchStr", std::to_string(index)}}}}}));
    }
  }
  return nlohmann::json{{"rows", std::move(rows)}};
}

}  // namespace

std::vector<Route> scrutinizer_routes(Server& server) {
  Server* s = &server;
  auto handler = [s](HttpCall& call) -> Result<HttpReply> {
    const std::string* rm = find_param(call.params, "rm");
    const std::string mode = rm != nullptr ? *rm : "";
    Result<nlohmann::json> out = Error{ErrorCode::InvalidArgument, ""};
    if (mode == "report_api") {
      out = report_api(*s, call);
    } else if (mode == "report_start") {
      out = report_start(*s, call);
    } else if (mode == "get_known_objects") {
      out = known_objects(*s, call);
    } else if (mode == "status") {
      out = top_interfaces(*s, call);
    } else if (mode == "user_api") {
      out = user_api(*s, call);
    } else {
      out = Error{ErrorCode::InvalidArgument,
                  fmt::format("rm \"{}\" is not supported; flowscope answers report_api, "
                              "report_start, get_known_objects, status and user_api",
                              mode)};
    }
    if (!out) return out.error();
    return HttpReply{200, std::move(*out)};
  };
  std::vector<RouteParam> params = {
      {"rm",
       "query",
       "string",
       "run mode",
       true,
       {"report_api", "report_start", "get_known_objects", "status", "user_api"}},
      {"action", "query", "string", "get (report_api), or a user_api action", false, {}},
      {"authToken", "query", "string", "an API token (flowscope user token add)", false, {}},
      {"rpt_json", "query", "string", "report_api: the report, JSON", false, {}},
      {"data_requested", "query", "string", "report_api: what to answer, JSON", false, {}},
      {"report_data", "query", "string", "report_start: the report, JSON", false, {}},
      {"type",
       "query",
       "string",
       "get_known_objects: devices or deviceGroups",
       false,
       {"devices", "deviceGroups"}},
      {"view", "query", "string", "status: topInterfaces", false, {}},
      {"session_state", "query", "string", "status: search, JSON", false, {}},
      {"json", "query", "string", "user_api: the action's JSON", false, {}},
  };
  return {{"GET", "/fcgi/scrut_fcgi.fcgi", Access::Scrutinizer,
           "Scrutinizer's API (report_api, report_start, get_known_objects, status, user_api)",
           params, "Scrutinizer", handler},
          {"POST", "/fcgi/scrut_fcgi.fcgi", Access::Scrutinizer,
           "the same as a POST form (url-encoded or multipart)", params, "Scrutinizer", handler}};
}

}  // namespace flowscope::server
