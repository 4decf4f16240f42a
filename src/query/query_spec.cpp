#include "query/query_spec.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/record_batch.h"

namespace flowscope::query {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct Alias {
  std::string_view name;
  FieldId fields[2];
  int count;
  bool both_sides;
};

// FlowTraq's entities by the names its reports use.
constexpr Alias kAliases[] = {
    {"host", {FieldId::Addr}, 1, false},
    {"pair", {FieldId::ClnAddr, FieldId::SrvAddr}, 2, false},
    {"hostpair", {FieldId::ClnAddr, FieldId::SrvAddr}, 2, false},
    {"port", {FieldId::Port}, 1, false},
    {"srvport", {FieldId::SrvPort}, 1, false},
    {"clnport", {FieldId::ClnPort}, 1, false},
    {"service", {FieldId::Service}, 1, false},
    {"country", {FieldId::ClnCountry}, 1, true},
    {"city", {FieldId::ClnCity}, 1, true},
    {"as", {FieldId::Asn}, 1, false},
    {"asorg", {FieldId::ClnAsOrg}, 1, true},
    {"proto", {FieldId::Proto}, 1, false},
    {"iface", {FieldId::Iface}, 1, false},
    {"interface", {FieldId::Iface}, 1, false},
    {"vlan", {FieldId::Vlan}, 1, false},
    {"exporter", {FieldId::Exporter}, 1, false},
    {"app", {FieldId::Application}, 1, false},
    {"application", {FieldId::Application}, 1, false},
    {"group", {FieldId::GroupName}, 1, false},  // by name, as FlowTraq shows groups
    {"group_id", {FieldId::Group}, 1, false},   // by id (cln_group/srv_group)
};

std::optional<FieldId> find_session_field(std::string_view name) {
  if (auto f = find_field(RecordKind::Session, lower(name))) return f;
  if (auto f = find_filter_field(name); f && in_kind(field_info(*f), RecordKind::Session)) return f;
  return std::nullopt;
}

Result<std::uint8_t> parse_prefix(std::string_view text, unsigned max, std::string_view item) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > max) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("group \"{}\": \"{}\" is not a prefix length 0-{}", item, text, max)};
  }
  return static_cast<std::uint8_t>(v);
}

const char* kGroupChoices =
    "host, pair, port, srvport, clnport, service, country, city, as, asorg, proto, iface, vlan, "
    "exporter, app, group, group_id, location, activity, or a session field (flowscope fields)";

}  // namespace

std::vector<FieldId> default_query_fields() {
  const auto columns = default_columns(Surface::Query);
  return {columns.begin(), columns.end()};
}

bool is_sided(const GroupKey& k) {
  return k.both_sides || field_info(k.field).kind == FieldKind::Either;
}

std::vector<FieldId> side_fields(const GroupKey& k) {
  const FieldInfo& info = field_info(k.field);
  if (info.kind == FieldKind::Either) return {info.operands[0], info.operands[1]};
  if (k.both_sides) return {k.field, on_side(k.field, 1)};
  return {k.field};
}

Result<std::vector<GroupKey>> parse_group_spec(std::string_view text) {
  std::vector<GroupKey> out;
  std::size_t start = 0;
  text = trim(text);
  if (text.empty()) return out;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = trim(text.substr(start, end - start));
    start = end + 1;
    std::string_view name = item;
    std::string_view prefixes;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      name = item.substr(0, slash);
      prefixes = item.substr(slash + 1);
    }
    std::vector<GroupKey> keys;
    for (const Alias& a : kAliases) {
      if (lower(name) == a.name) {
        for (int i = 0; i < a.count; ++i) keys.push_back(GroupKey{a.fields[i], a.both_sides});
      }
    }
    if (keys.empty()) {
      auto f = find_session_field(name);
      if (!f) {
        return Error{ErrorCode::InvalidArgument,
                     fmt::format("cannot group by \"{}\"; use {}", name, kGroupChoices)};
      }
      const FieldInfo& info = field_info(*f);
      if (info.kind == FieldKind::Sum || info.kind == FieldKind::Diff) {
        return Error{ErrorCode::InvalidArgument,
                     fmt::format("cannot group by {}: it is computed ({}); group by its parts",
                                 info.name, definition(info))};
      }
      if (*f == FieldId::SessionCount) {
        return Error{ErrorCode::InvalidArgument, "cannot group by sessions"};
      }
      keys.push_back(GroupKey{*f});
    }
    if (!prefixes.empty()) {
      for (GroupKey& k : keys) {
        if (field_info(k.field).type != FieldType::Ip) {
          return Error{ErrorCode::InvalidArgument,
                       fmt::format("group \"{}\": only addresses take a /prefix", item)};
        }
      }
      std::string_view v4 = prefixes;
      std::string_view v6;
      if (auto slash = prefixes.find('/'); slash != std::string_view::npos) {
        v4 = prefixes.substr(0, slash);
        v6 = prefixes.substr(slash + 1);
      }
      std::uint8_t p4 = 32;
      std::uint8_t p6 = 128;
      if (!v4.empty()) {
        auto p = parse_prefix(v4, 32, item);
        if (!p) return p.error();
        p4 = *p;
      }
      if (!v6.empty()) {
        auto p = parse_prefix(v6, 128, item);
        if (!p) return p.error();
        p6 = *p;
      }
      for (GroupKey& k : keys) {
        k.v4_prefix = p4;
        k.v6_prefix = p6;
      }
    }
    for (GroupKey& k : keys) out.push_back(k);
  }
  return out;
}

Result<void> parse_count_spec(std::string_view text, StatSpec& spec) {
  const std::string t = lower(trim(text));
  if (t == "bytes" || t == "b") {
    spec.count = CountKind::Bytes;
  } else if (t == "packets" || t == "pkts" || t == "p") {
    spec.count = CountKind::Packets;
  } else if (t == "sessions" || t == "s" || t == "flows") {
    spec.count = CountKind::Sessions;
  } else if (t == "uports" || t == "up") {
    spec.count = CountKind::Unique;
    spec.unique_field = FieldId::SrvPort;
  } else if (t == "uhosts" || t == "uh" || t == "upeers") {
    spec.count = CountKind::Unique;
    spec.unique_field = FieldId::Addr;
  } else if (t.starts_with("unique:") || t.starts_with("unique ")) {
    const std::string_view name =
        trim(std::string_view(text).substr(trim(text).find_first_of(": ") + 1));
    auto f = find_session_field(name);
    if (!f || field_info(*f).kind == FieldKind::Sum || field_info(*f).kind == FieldKind::Diff ||
        *f == FieldId::SessionCount) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot count distinct \"{}\"; name a stored or either-side "
                               "session field such as SRVPORT or ADDR",
                               name)};
    }
    spec.count = CountKind::Unique;
    spec.unique_field = *f;
  } else {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("cannot count \"{}\"; use bytes, packets, sessions, uports, uhosts "
                             "or unique:FIELD",
                             text)};
  }
  return ok();
}

Result<FieldId> parse_output_field(std::string_view text) {
  auto f = find_session_field(trim(text));
  if (!f) {
    std::string msg = fmt::format("unknown field \"{}\"", trim(text));
    if (auto s = suggest_filter_field(trim(text)); !s.empty()) {
      msg += fmt::format("; did you mean {}?", s);
    }
    return Error{ErrorCode::InvalidArgument, msg + " (see flowscope fields)"};
  }
  if (field_info(*f).kind == FieldKind::Either) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{} is either of {}; name one of them", field_info(*f).name,
                             definition(field_info(*f)))};
  }
  return *f;
}

Result<FieldId> parse_record_field(std::string_view text, RecordKind kind) {
  if (kind == RecordKind::Session) return parse_output_field(text);
  auto id = find_field(RecordKind::Flow, trim(text));
  if (!id || FlowBatch::column_index(*id) < 0) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("\"{}\" is not a field of flow records; see 'flowscope fields --kind "
                             "flow'",
                             trim(text))};
  }
  return *id;
}

Result<std::vector<FieldId>> parse_field_list(std::string_view list, RecordKind kind) {
  std::vector<FieldId> out;
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) {
      auto f = parse_record_field(item, kind);
      if (!f) return f.error();
      out.push_back(*f);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (out.empty()) return Error{ErrorCode::InvalidArgument, "the list of fields is empty"};
  return out;
}

Result<SortKey> parse_sort_key(std::string_view text) {
  text = trim(text);
  SortKey key;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    key.descending = text.front() == '-';
    text.remove_prefix(1);
  }
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    const std::string dir = lower(text.substr(colon + 1));
    if (dir != "asc" && dir != "desc") {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("sort \"{}\": the direction is asc or desc", text)};
    }
    key.descending = dir == "desc";
    text = text.substr(0, colon);
  }
  auto f = parse_output_field(text);
  if (!f) return f.error();
  key.field = *f;
  return key;
}

std::string_view count_name(CountKind k) {
  switch (k) {
    case CountKind::Bytes: return "bytes";
    case CountKind::Packets: return "packets";
    case CountKind::Sessions: return "sessions";
    case CountKind::Unique: return "unique";
  }
  return "";
}

std::string_view side_name(Side s) {
  switch (s) {
    case Side::Both: return "both";
    case Side::Send: return "send";
    case Side::Receive: return "receive";
  }
  return "";
}

std::string group_key_text(const GroupKey& k) {
  std::string out;
  if (k.both_sides) {
    for (const Alias& a : kAliases) {
      if (a.both_sides && a.fields[0] == k.field) out = std::string(a.name);
    }
  }
  if (out.empty()) out = std::string(field_info(k.field).name);
  // A registry name that is also an alias of another field ("group" is group_name's alias):
  // the text names this field's own alias ("group_id"), so that it parses back to it.
  for (const Alias& a : kAliases) {
    if (a.name != out || a.fields[0] == k.field) continue;
    for (const Alias& own : kAliases) {
      if (own.count == 1 && !own.both_sides && own.fields[0] == k.field) out = own.name;
    }
    break;
  }
  if (k.v4_prefix != 32 || k.v6_prefix != 128) {
    out += fmt::format("/{}/{}", k.v4_prefix, k.v6_prefix);
  }
  return out;
}

namespace {

nlohmann::json selection_json(const Selection& s) {
  nlohmann::json j;
  j["filter"] = s.filter;
  j["syntax"] = s.syntax == FilterSyntax::Nfdump ? "nfdump" : "flowtraq";
  j["begin_ms"] = s.begin_ms;
  j["end_ms"] = s.end_ms;
  return j;
}

Result<Selection> selection_from(const nlohmann::json& j) {
  Selection s;
  if (j.contains("filter")) s.filter = j.at("filter").get<std::string>();
  if (j.contains("syntax")) {
    const auto syntax = j.at("syntax").get<std::string>();
    if (syntax == "nfdump") {
      s.syntax = FilterSyntax::Nfdump;
    } else if (syntax != "flowtraq") {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("syntax \"{}\": use flowtraq or nfdump", syntax)};
    }
  }
  if (j.contains("begin_ms")) s.begin_ms = j.at("begin_ms").get<std::int64_t>();
  if (j.contains("end_ms")) s.end_ms = j.at("end_ms").get<std::int64_t>();
  return s;
}

// Runs `f`, turning nlohmann's type errors into an Error.
template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    return Error{ErrorCode::InvalidArgument, fmt::format("bad query JSON: {}", e.what())};
  }
}

}  // namespace

nlohmann::json to_json(const QuerySpec& spec) {
  nlohmann::json j = selection_json(spec.where);
  j["fields"] = nlohmann::json::array();
  for (FieldId f : spec.fields) j["fields"].push_back(field_info(f).name);
  j["sort"] = nlohmann::json::array();
  for (const SortKey& k : spec.sort) {
    j["sort"].push_back({{"field", field_info(k.field).name}, {"desc", k.descending}});
  }
  j["limit"] = spec.limit;
  return j;
}

nlohmann::json to_json(const StatSpec& spec) {
  nlohmann::json j = selection_json(spec.where);
  j["group_by"] = nlohmann::json::array();
  for (const GroupKey& k : spec.group_by) j["group_by"].push_back(group_key_text(k));
  j["count"] = count_name(spec.count);
  if (spec.count == CountKind::Unique) j["unique"] = field_info(spec.unique_field).name;
  j["side"] = side_name(spec.side);
  j["top"] = spec.top;
  j["bucket_ms"] = spec.bucket_ms;
  return j;
}

Result<QuerySpec> query_spec_from_json(const nlohmann::json& j) {
  return guarded([&]() -> Result<QuerySpec> {
    QuerySpec spec;
    auto where = selection_from(j);
    if (!where) return where.error();
    spec.where = std::move(*where);
    if (j.contains("fields")) {
      for (const auto& f : j.at("fields")) {
        auto id = parse_output_field(f.get<std::string>());
        if (!id) return id.error();
        spec.fields.push_back(*id);
      }
    }
    if (j.contains("sort")) {
      for (const auto& s : j.at("sort")) {
        auto id = parse_output_field(s.at("field").get<std::string>());
        if (!id) return id.error();
        spec.sort.push_back({*id, s.value("desc", false)});
      }
    }
    if (j.contains("limit")) spec.limit = j.at("limit").get<std::uint64_t>();
    return spec;
  });
}

Result<StatSpec> stat_spec_from_json(const nlohmann::json& j) {
  return guarded([&]() -> Result<StatSpec> {
    StatSpec spec;
    auto where = selection_from(j);
    if (!where) return where.error();
    spec.where = std::move(*where);
    if (j.contains("group_by")) {
      for (const auto& g : j.at("group_by")) {
        auto keys = parse_group_spec(g.get<std::string>());
        if (!keys) return keys.error();
        spec.group_by.insert(spec.group_by.end(), keys->begin(), keys->end());
      }
    }
    if (j.contains("count")) {
      std::string count = j.at("count").get<std::string>();
      if (count == "unique") count = "unique:" + j.value("unique", std::string("srv_port"));
      auto r = parse_count_spec(count, spec);
      if (!r) return r.error();
    }
    if (j.contains("side")) {
      const auto side = j.at("side").get<std::string>();
      if (side == "send") {
        spec.side = Side::Send;
      } else if (side == "receive") {
        spec.side = Side::Receive;
      } else if (side != "both") {
        return Error{ErrorCode::InvalidArgument,
                     fmt::format("side \"{}\": use both, send or receive", side)};
      }
    }
    if (j.contains("top")) spec.top = j.at("top").get<std::uint64_t>();
    if (j.contains("bucket_ms")) spec.bucket_ms = j.at("bucket_ms").get<std::int64_t>();
    if (spec.bucket_ms < 0) return Error{ErrorCode::InvalidArgument, "bucket_ms must be >= 0"};
    return spec;
  });
}

}  // namespace flowscope::query
