#include "server/scrutinizer_report.h"

#include <chrono>

#include <fmt/format.h>

#include "enrich/ip_groups.h"
#include "server/http_request.h"

namespace flowscope::server {
namespace {

using query::FilterExpr;

struct ReportType {
  std::string_view name;
  std::vector<FieldId> inbound;  // the source's fields first
};

const std::vector<ReportType>& report_types() {
  static const std::vector<ReportType> kTypes = {
      {"host2host", {FieldId::ClnAddr, FieldId::SrvAddr}},
      {"conversations", {FieldId::ClnAddr, FieldId::SrvAddr, FieldId::SrvPort, FieldId::Proto}},
      {"conversationsApp", {FieldId::ClnAddr, FieldId::SrvAddr, FieldId::Application}},
      {"applications", {FieldId::Application}},
      {"srcHosts", {FieldId::ClnAddr}},
      {"dstHosts", {FieldId::SrvAddr}},
      {"country2country", {FieldId::ClnCountry, FieldId::SrvCountry}},
      {"ipGroupGroup", {FieldId::ClnGroup, FieldId::SrvGroup}},
      {"tos", {FieldId::Tos}},
      {"interfaces", {FieldId::Exporter, FieldId::InIf}},
  };
  return kTypes;
}

// Outbound reports read from the server's side.
std::optional<FieldId> swapped(FieldId f) {
  switch (f) {
    case FieldId::ClnAddr: return FieldId::SrvAddr;
    case FieldId::SrvAddr: return FieldId::ClnAddr;
    case FieldId::ClnCountry: return FieldId::SrvCountry;
    case FieldId::SrvCountry: return FieldId::ClnCountry;
    case FieldId::ClnGroup: return FieldId::SrvGroup;
    case FieldId::SrvGroup: return FieldId::ClnGroup;
    case FieldId::InIf: return FieldId::OutIf;
    default: return std::nullopt;
  }
}

Error bad(std::string message) { return Error{ErrorCode::InvalidArgument, std::move(message)}; }

// A string member, `fallback` when absent; an error when it is there with another type
// (json::value() would throw).
Result<std::string> text_member(const nlohmann::json& j, std::string_view key,
                                std::string fallback) {
  if (!j.is_object() || !j.contains(key)) return fallback;
  const nlohmann::json& v = j[std::string(key)];
  if (!v.is_string()) return bad(fmt::format("{} must be a string (got {})", key, json_text(v)));
  return v.get<std::string>();
}

// A string member, or `selected` of an object member ({"selected": "inbound"}).
std::string selected(const nlohmann::json& j, std::string_view key, std::string fallback) {
  if (!j.contains(key)) return fallback;
  const nlohmann::json& v = j[std::string(key)];
  const nlohmann::json& s = v.is_object() && v.contains("selected") ? v["selected"] : v;
  if (s.is_string()) return s.get<std::string>();
  if (s.is_number()) return json_text(s);
  return fallback;
}

FilterExpr compare(FieldId field, query::FilterValue value) {
  query::Comparison c;
  c.field = field;
  c.op = Comparator::Eq;
  c.value = std::move(value);
  return FilterExpr::compare(std::move(c));
}

FilterExpr any_of(std::vector<FilterExpr> items) {
  if (items.size() == 1) return std::move(items.front());
  return FilterExpr::make(FilterExpr::Op::Or, std::move(items));
}

// Scrutinizer names exporters in hex ("0A010107"); its Grafana data source passes the address
// get_known_objects gave, so a dotted or IPv6 address is read too.
Result<IpAddress> hex_address(std::string_view hex) {
  if (hex.find_first_of(".:") != std::string_view::npos) {
    if (auto a = IpAddress::parse(hex)) return *a;
  }
  if (hex.size() != 8 && hex.size() != 32) {
    return bad(
        fmt::format("\"{}\" is not an exporter in hex (8 digits for IPv4, e.g. 0A010107)", hex));
  }
  std::array<std::byte, 16> bytes{};
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    for (std::size_t k = 0; k < 2; ++k) {
      const char c = hex[i + k];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        return bad(fmt::format("\"{}\" is not an exporter in hex", hex));
      }
    }
    bytes[i / 2] = static_cast<std::byte>(v);
  }
  if (hex.size() == 8) {
    return IpAddress::v4_bytes(std::span<const std::byte, 4>(bytes.data(), 4));
  }
  return IpAddress::v6_bytes(std::span<const std::byte, 16>(bytes));
}

// "in_<x>_<rest>" -> x, rest (x may not hold '_'; rest may).
Result<std::pair<std::string, std::string>> split_filter(const std::string& key,
                                                         const std::string& value) {
  if (value.rfind("in_", 0) != 0) {
    return bad(fmt::format("filter {}=\"{}\" does not start with in_", key, value));
  }
  const std::string rest = value.substr(3);
  const std::size_t us = rest.find('_');
  if (us == std::string::npos) {
    return bad(fmt::format("filter {}=\"{}\" has no second part; e.g. in_GROUP_ALL", key, value));
  }
  return std::pair{rest.substr(0, us), rest.substr(us + 1)};
}

// src/dst/both relative to the report: inbound's source is the client.
Result<FieldId> side_field(const std::string& key, const std::string& which, ReportDirection d,
                           FieldId client, FieldId server, FieldId either) {
  std::string w = which;
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool in = d == ReportDirection::Inbound;
  if (w == "src") return in ? client : server;
  if (w == "dst") return in ? server : client;
  if (w == "both") return either;
  return bad(fmt::format("filter {}: \"{}\" is not src, dst or both", key, which));
}

Result<FilterExpr> device_filter(const std::string& key, const std::string& value) {
  auto parts = split_filter(key, value);
  if (!parts) return parts.error();
  const auto& [first, rest] = *parts;
  if (first == "GROUP") {
    if (rest == "ALL") return FilterExpr::all();
    return bad(
        fmt::format("filter {}: device group \"{}\" is not known; flowscope has the "
                    "group ALL (get_known_objects type=deviceGroups)",
                    key, rest));
  }
  auto exporter = hex_address(first);
  if (!exporter) return exporter.error();
  FilterExpr on_exporter = compare(FieldId::Exporter, Cidr::host(*exporter));
  if (rest == "ALL") return on_exporter;
  const std::size_t dash = rest.rfind('-');
  auto same =
      dash == std::string::npos ? Result<IpAddress>(bad("")) : hex_address(rest.substr(0, dash));
  if (!same || !(*same == *exporter)) {
    return bad(fmt::format("filter {}=\"{}\": write in_<hex>_ALL or in_<hex>_<hex>-<ifIndex>", key,
                           value));
  }
  auto index = json_uint(nlohmann::json(rest.substr(dash + 1)), key, 0xFFFFFFFFu);
  if (!index) return index.error();
  return FilterExpr::make(FilterExpr::Op::And,
                          {std::move(on_exporter), compare(FieldId::Iface, *index)});
}

Result<FilterExpr> ip_group_filter(const std::string& key, const std::string& value,
                                   ReportDirection d, const enrich::IpGroups* groups) {
  auto parts = split_filter(key, value);
  if (!parts) return parts.error();
  auto id = json_uint(nlohmann::json(parts->first), key, 0xFFFFFFFFu);
  if (!id) return id.error();
  auto field =
      side_field(key, parts->second, d, FieldId::ClnGroup, FieldId::SrvGroup, FieldId::Group);
  if (!field) return field.error();
  if (groups == nullptr || groups->group(static_cast<std::uint32_t>(*id)) == nullptr) {
    return Error{ErrorCode::NotFound,
                 fmt::format("filter {}: no IP group {}; see [enrich] ip_groups", key, *id)};
  }
  std::vector<FilterExpr> any;  // the group and the groups nested in it
  for (const enrich::IpGroup& g : groups->groups()) {
    if (groups->is_within(g.id, static_cast<std::uint32_t>(*id))) {
      any.push_back(compare(*field, std::uint64_t{g.id}));
    }
  }
  return any_of(std::move(any));
}

Result<FilterExpr> ip_filter(const std::string& key, const std::string& value, ReportDirection d) {
  const std::size_t last = value.rfind('_');
  if (value.rfind("in_", 0) != 0 || last == std::string::npos || last < 3) {
    return bad(
        fmt::format("filter {}=\"{}\": write in_<address or CIDR>_src|dst|both", key, value));
  }
  const std::string text = value.substr(3, last - 3);
  auto cidr = text.find('/') != std::string::npos ? Cidr::parse(text, Cidr::HostBits::Clear)
                                                  : [&]() -> Result<Cidr> {
    auto a = IpAddress::parse(text);
    if (!a) return bad("not an address");
    return Cidr::host(*a);
  }();
  if (!cidr) {
    return bad(fmt::format("filter {}: \"{}\" is not an address or CIDR", key, text));
  }
  auto field =
      side_field(key, value.substr(last + 1), d, FieldId::ClnAddr, FieldId::SrvAddr, FieldId::Addr);
  if (!field) return field.error();
  return compare(*field, *cidr);
}

Result<FilterExpr> report_filters(const nlohmann::json& filters, ReportDirection d,
                                  const enrich::IpGroups* groups) {
  if (filters.is_null()) return FilterExpr::all();
  if (!filters.is_object()) return bad("filters must be an object such as {\"sdfDips_0\": ...}");
  std::vector<FilterExpr> devices, ip_groups, ips;
  for (const auto& [key, v] : filters.items()) {
    if (!v.is_string()) return bad(fmt::format("filter {} must be a string", key));
    const std::string value = v.get<std::string>();
    const std::string kind = key.substr(0, key.find('_'));
    Result<FilterExpr> f = FilterExpr::all();
    if (kind == "sdfDips") {
      f = device_filter(key, value);
      if (f) devices.push_back(std::move(*f));
    } else if (kind == "sdfIPGroups") {
      f = ip_group_filter(key, value, d, groups);
      if (f) ip_groups.push_back(std::move(*f));
    } else if (kind == "sdfIps") {
      f = ip_filter(key, value, d);
      if (f) ips.push_back(std::move(*f));
    } else {
      return bad(
          fmt::format("filter {} is not supported; use sdfDips_N, sdfIPGroups_N or "
                      "sdfIps_N",
                      key));
    }
    if (!f) return f.error();
  }
  std::vector<FilterExpr> all;
  for (auto* kind : {&devices, &ip_groups, &ips}) {
    if (!kind->empty()) all.push_back(any_of(std::move(*kind)));
  }
  if (all.empty()) return FilterExpr::all();
  if (all.size() == 1) return std::move(all.front());
  return FilterExpr::make(FilterExpr::Op::And, std::move(all));
}

Result<std::int64_t> epoch_seconds(const nlohmann::json& j, std::string_view what) {
  auto v = json_uint(j, what, std::uint64_t{1} << 40);
  if (!v) return v.error();
  return static_cast<std::int64_t>(*v) * 1000;
}

}  // namespace

Result<IpAddress> scrutinizer_exporter(std::string_view text) { return hex_address(text); }

std::string_view direction_name(ReportDirection d) {
  return d == ReportDirection::Inbound ? "inbound" : "outbound";
}

std::int64_t auto_granularity_ms(std::int64_t window_ms) {
  constexpr std::int64_t kMinute = 60'000;
  if (window_ms <= 6 * 60 * kMinute) return kMinute;
  if (window_ms <= 7 * 24 * 60 * kMinute) return 60 * kMinute;
  return 1440 * kMinute;
}

Result<TimeWindow> report_window(const nlohmann::json& times, TimeMs now, const TimeZoneRef& zone) {
  using namespace std::chrono;
  if (!times.is_object())
    return bad("times must be an object such as {\"dateRange\": \"LastHour\"}");
  auto range_text = text_member(times, "dateRange", "LastFiveMinutes");
  if (!range_text) return range_text.error();
  const std::string range = *range_text;
  const TimeContext ctx{now, zone};
  auto minutes = [&](int n) { return TimeWindow{now - std::chrono::minutes(n), now}; };
  // Local calendar day of `now` in the zone, and local midnight of a day.
  const std::string local = format_time(now, zone);
  const int y = std::stoi(local.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(local.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(local.substr(8, 2)));
  const year_month_day today{year{y}, month{m}, day{d}};
  auto midnight = [&](year_month_day day_) -> Result<TimeMs> {
    return parse_time(
        fmt::format("{:04}-{:02}-{:02}", static_cast<int>(day_.year()),
                    static_cast<unsigned>(day_.month()), static_cast<unsigned>(day_.day())),
        ctx);
  };
  auto span = [&](year_month_day a, year_month_day b) -> Result<TimeWindow> {
    auto begin = midnight(a);
    if (!begin) return begin.error();
    auto end = midnight(b);
    if (!end) return end.error();
    return TimeWindow{*begin, *end};
  };
  auto until_now = [&](year_month_day a) -> Result<TimeWindow> {
    auto begin = midnight(a);
    if (!begin) return begin.error();
    return TimeWindow{*begin, now};
  };
  const sys_days today_days{today};
  const year_month_day monday{today_days - (weekday{today_days} - Monday)};
  if (range == "LastFiveMinutes") return minutes(5);
  if (range == "LastTenMinutes") return minutes(10);
  if (range == "LastFifteenMinutes") return minutes(15);
  if (range == "LastTwentyMinutes") return minutes(20);
  if (range == "LastThirtyMinutes") return minutes(30);
  if (range == "LastFortyFiveMinutes") return minutes(45);
  if (range == "LastHour") return minutes(60);
  if (range == "Last24Hours") return minutes(24 * 60);
  if (range == "LastThreeDays") return minutes(3 * 24 * 60);
  if (range == "LastSevenDays") return minutes(7 * 24 * 60);
  if (range == "LastThirtyDays") return minutes(30 * 24 * 60);
  if (range == "LastFullHour" || range == "LastFUllHour") {
    auto hour = parse_time(fmt::format("{}:00", local.substr(0, 13)), ctx);
    if (!hour) return hour.error();
    return TimeWindow{*hour - std::chrono::hours(1), *hour};
  }
  if (range == "Today") return until_now(today);
  if (range == "Yesterday") return span(year_month_day{today_days - days{1}}, today);
  if (range == "ThisWeek") return until_now(monday);
  if (range == "LastWeek") return span(year_month_day{sys_days{monday} - days{7}}, monday);
  const year_month_day month_start{today.year(), today.month(), day{1}};
  if (range == "ThisMonth") return until_now(month_start);
  if (range == "LastMonth" || range == "LastMOnth") {
    year_month previous{today.year(), today.month()};
    previous -= months{1};
    return span(year_month_day{previous / day{1}}, month_start);
  }
  const year_month_day year_start{today.year(), January, day{1}};
  if (range == "ThisYear") return until_now(year_start);
  if (range == "LastYear") return span(year_start - years{1}, year_start);
  if (range == "Custom") {
    if (!times.contains("start") || !times.contains("end")) {
      return bad("times: Custom needs \"start\" and \"end\" in epoch seconds");
    }
    auto start = epoch_seconds(times["start"], "times.start");
    if (!start) return start.error();
    auto end = epoch_seconds(times["end"], "times.end");
    if (!end) return end.error();
    if (*end <= *start) return bad("times: end must be after start");
    return TimeWindow{time_from_ms(*start), time_from_ms(*end)};
  }
  return bad(fmt::format(
      "times.dateRange \"{}\" is not one of LastFiveMinutes, LastTenMinutes, LastFifteenMinutes, "
      "LastTwentyMinutes, LastThirtyMinutes, LastFortyFiveMinutes, LastHour, LastFullHour, "
      "Last24Hours, LastThreeDays, LastSevenDays, LastThirtyDays, Today, Yesterday, ThisWeek, "
      "LastWeek, ThisMonth, LastMonth, ThisYear, LastYear, Custom",
      range));
}

Result<ReportRequest> parse_report_request(const nlohmann::json& rpt_json,
                                           const nlohmann::json& data_requested, TimeMs now,
                                           const enrich::IpGroups* ip_groups) {
  if (!rpt_json.is_object()) {
    return bad("rpt_json must be a JSON object such as {\"reportTypeLang\": \"host2host\", ...}");
  }
  ReportRequest r;
  r.type = selected(rpt_json, "reportTypeLang", "");
  const ReportType* type = nullptr;
  std::string names;
  for (const ReportType& t : report_types()) {
    if (t.name == r.type) type = &t;
    names += names.empty() ? "" : ", ";
    names += t.name;
  }
  if (type == nullptr) {
    return bad(
        fmt::format("reportTypeLang \"{}\" is not a report type flowscope knows; use one "
                    "of {}",
                    r.type, names));
  }
  const std::string dir = selected(rpt_json, "reportDirections", "inbound");
  if (dir == "outbound") {
    r.direction = ReportDirection::Outbound;
  } else if (dir != "inbound") {
    return bad(fmt::format("reportDirections.selected \"{}\" is not inbound or outbound", dir));
  }
  bool any_swapped = false;
  for (FieldId f : type->inbound) {
    FieldId field = f;
    if (r.direction == ReportDirection::Outbound) {
      if (auto s = swapped(f)) {
        field = *s;
        any_swapped = true;
      }
    }
    r.spec.group_by.push_back(query::GroupKey{field, false, 32, 128});
  }
  // Inbound: what the client (the source) sent. Outbound: the server's; with the server's field
  // first, "send" is the server's side, else it is what the client received.
  r.spec.side = r.direction == ReportDirection::Outbound && !any_swapped ? query::Side::Receive
                                                                         : query::Side::Send;
  auto order_by = text_member(rpt_json, "orderBy", "sum_octetdeltacount");
  if (!order_by) return order_by.error();
  r.order_by = *order_by;
  if (r.order_by == "sum_octetdeltacount" || r.order_by.empty()) {
    r.spec.count = query::CountKind::Bytes;
  } else if (r.order_by == "sum_packetdeltacount") {
    r.spec.count = query::CountKind::Packets;
  } else if (r.order_by == "sum_flows" || r.order_by == "flows" || r.order_by == "count_flows") {
    r.spec.count = query::CountKind::Sessions;
  } else {
    return bad(
        fmt::format("orderBy \"{}\" is not sum_octetdeltacount, sum_packetdeltacount or "
                    "sum_flows",
                    r.order_by));
  }
  const std::string rate = selected(rpt_json, "rateTotal", "total");
  if (rate != "rate" && rate != "total") {
    return bad(fmt::format("rateTotal \"{}\" is not rate or total", rate));
  }
  r.rate = rate == "rate";
  const std::string unit = selected(rpt_json, "bbp", "bytes");
  if (unit == "bits") {
    r.unit = ReportUnit::Bits;
  } else if (unit == "percent") {
    r.unit = ReportUnit::Percent;
  } else if (unit != "bytes") {
    return bad(fmt::format("bbp \"{}\" is not bytes, bits or percent", unit));
  }

  const nlohmann::json times = rpt_json.value("times", nlohmann::json::object());
  auto zone_text = text_member(times, "clientTimezone", "UTC");
  if (!zone_text) return zone_text.error();
  r.time_zone = *zone_text;
  if (r.time_zone.empty()) r.time_zone = "UTC";
  auto zone = TimeZoneRef::named(r.time_zone);
  if (!zone) return Error{zone.error().code, "times.clientTimezone: " + zone.error().message};
  r.date_range = text_member(times, "dateRange", "LastFiveMinutes").value_or("");
  auto window = report_window(times, now, *zone);
  if (!window) return window.error();
  r.spec.where.begin_ms = to_ms(window->begin);
  r.spec.where.end_ms = to_ms(window->end);

  const std::string granularity = selected(rpt_json, "dataGranularity", "auto");
  if (granularity == "auto" || granularity.empty()) {
    r.granularity_ms = auto_granularity_ms(r.spec.where.end_ms - r.spec.where.begin_ms);
  } else {
    auto minutes = json_uint(nlohmann::json(granularity), "dataGranularity.selected", 525600);
    if (!minutes || *minutes == 0) {
      return bad(
          fmt::format("dataGranularity.selected \"{}\" is not \"auto\" or minutes (1 to "
                      "525600)",
                      granularity));
    }
    r.granularity_auto = false;
    r.granularity_ms = static_cast<std::int64_t>(*minutes) * 60'000;
  }
  // "Last N minutes/hours/days" are whole intervals, as Scrutinizer reports them: both ends
  // move back to an interval boundary (epoch-aligned, so up to an hour in any zone), which is
  // also what lets a rollup of that interval answer. Calendar ranges start on their boundary
  // already; Custom is taken as given.
  if (r.date_range.rfind("Last", 0) == 0 && r.date_range != "LastWeek" &&
      r.date_range != "LastMonth" && r.date_range != "LastMOnth" && r.date_range != "LastYear" &&
      r.granularity_ms <= 3'600'000) {
    const std::int64_t g = r.granularity_ms;
    auto floor_to = [g](std::int64_t t) { return t - ((t % g) + g) % g; };
    r.spec.where.begin_ms = floor_to(r.spec.where.begin_ms);
    r.spec.where.end_ms = floor_to(r.spec.where.end_ms);
  }

  auto filter = report_filters(rpt_json.value("filters", nlohmann::json()), r.direction, ip_groups);
  if (!filter) return filter.error();
  if (filter->op != FilterExpr::Op::All) {
    r.spec.where.restriction = std::make_shared<const FilterExpr>(std::move(*filter));
  }

  if (!data_requested.is_null() && !data_requested.is_object()) {
    return bad("data_requested must be a JSON object such as {\"inbound\": {\"table\": ...}}");
  }
  if (data_requested.is_object()) {
    for (const auto& [key, v] : data_requested.items()) {
      DirectionRequest w;
      if (key == "outbound") {
        w.direction = ReportDirection::Outbound;
      } else if (key != "inbound") {
        return bad(fmt::format("data_requested.{}: the keys are inbound and outbound", key));
      }
      if (!v.is_object()) return bad(fmt::format("data_requested.{} must be an object", key));
      if (v.contains("table")) {
        w.table = true;
        const nlohmann::json& t = v["table"];
        if (t.is_object() && t.contains("query_limit")) {
          const nlohmann::json& q = t["query_limit"];
          if (!q.is_object())
            return bad("query_limit must be {\"offset\": N, \"max_num_rows\": N}");
          if (q.contains("offset")) {
            auto o = json_uint(q["offset"], "query_limit.offset", kMaxReportRows);
            if (!o) return o.error();
            w.offset = *o;
          }
          if (q.contains("max_num_rows")) {
            auto n = json_uint(q["max_num_rows"], "query_limit.max_num_rows", kMaxReportRows);
            if (!n) {
              return bad(n.error().message + "; ask for fewer rows and page with offset");
            }
            w.max_rows = *n;
          }
        }
      }
      if (v.contains("graph")) {
        const std::string g = v["graph"].is_string() ? v["graph"].get<std::string>() : "";
        if (g == "all") {
          w.pie = w.timeseries = true;
        } else if (g == "pie") {
          w.pie = true;
        } else if (g == "timeseries") {
          w.timeseries = true;
        } else if (!g.empty() && g != "none") {
          return bad(
              fmt::format("data_requested.{}.graph \"{}\" is not all, pie or timeseries", key, g));
        }
      }
      r.wanted.push_back(w);
    }
  }
  if (r.wanted.empty()) {
    DirectionRequest w;
    w.direction = r.direction;
    w.table = true;
    r.wanted.push_back(w);
  }
  return r;
}

}  // namespace flowscope::server
