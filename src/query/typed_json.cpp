#include "query/typed_json.h"

#include <limits>
#include <set>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "core/country_code.h"
#include "core/ip_address.h"

namespace flowscope::query {
namespace {

Error bad(FieldId field, const nlohmann::json& value, std::string_view want) {
  return Error{ErrorCode::InvalidArgument,
               fmt::format("typed answer: {} is {}, not {}; the server and client versions "
                           "differ (upgrade the older)",
                           field_info(field).name, value.dump(), want)};
}

nlohmann::json values_json(const StatValues& v) {
  return nlohmann::json::array({v.value, v.bytes, v.packets, v.sessions});
}

Result<StatValues> values_from(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 4) {
    return Error{ErrorCode::InvalidArgument,
                 "typed answer: a statistic row is not [value, bytes, packets, sessions]"};
  }
  for (const auto& x : j) {
    if (!x.is_number_unsigned() && !(x.is_number_integer() && x.get<std::int64_t>() >= 0)) {
      return Error{ErrorCode::InvalidArgument, "typed answer: a statistic is not a count"};
    }
  }
  return StatValues{j[0].get<std::uint64_t>(), j[1].get<std::uint64_t>(), j[2].get<std::uint64_t>(),
                    j[3].get<std::uint64_t>()};
}

template <typename T>
Result<void> set_integer(Column& column, FieldId field, std::size_t row,
                         const nlohmann::json& value) {
  if (!value.is_number_integer()) return bad(field, value, "an integer");
  if constexpr (std::is_signed_v<T>) {
    column.vec<T>()[row] = value.get<T>();
  } else {
    if (value.is_number_integer() && !value.is_number_unsigned() && value.get<std::int64_t>() < 0) {
      return bad(field, value, "a count");
    }
    const std::uint64_t v = value.get<std::uint64_t>();
    if (v > std::numeric_limits<T>::max()) return bad(field, value, "in range");
    column.vec<T>()[row] = static_cast<T>(v);
  }
  return {};
}

}  // namespace

nlohmann::json typed_value(const Column& column, std::size_t row) {
  if (!column.valid(row)) return nullptr;
  return std::visit(
      [&](const auto& data) -> nlohmann::json {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          return std::string(data.get(row));
        } else {
          using T = typename D::value_type;
          if constexpr (std::is_same_v<T, IpAddress>) {
            return data[row].to_string();
          } else if constexpr (std::is_same_v<T, CountryCode>) {
            return std::string(data[row].view());
          } else {
            return data[row];
          }
        }
      },
      column.data());
}

Result<void> set_typed_value(SessionBatch& batch, FieldId field, std::size_t row,
                             const nlohmann::json& value) {
  if (value.is_null()) return {};
  Column& column = batch.mutable_column(field);
  Result<void> r = std::visit(
      [&](auto& data) -> Result<void> {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          if (!value.is_string()) return bad(field, value, "text");
          data.set(row, value.get<std::string>());
          return {};
        } else {
          using T = typename D::value_type;
          if constexpr (std::is_same_v<T, IpAddress>) {
            if (!value.is_string()) return bad(field, value, "an address");
            auto a = IpAddress::parse(value.get<std::string>());
            if (!a) return bad(field, value, "an address");
            data[row] = *a;
            return {};
          } else if constexpr (std::is_same_v<T, CountryCode>) {
            if (!value.is_string()) return bad(field, value, "a country code");
            auto c = CountryCode::parse(value.get<std::string>());
            if (!c) return bad(field, value, "a country code");
            data[row] = *c;
            return {};
          } else {
            return set_integer<T>(column, field, row, value);
          }
        }
      },
      column.data());
  if (r) column.mark_valid(row);
  return r;
}

nlohmann::json typed_stat_result(const StatResult& result) {
  nlohmann::json keys = nlohmann::json::object();
  for (const GroupKey& g : result.group_by) {
    const FieldId f = key_column(g);
    const std::string name(field_info(f).name);
    if (keys.contains(name)) continue;
    nlohmann::json column = nlohmann::json::array();
    for (std::size_t r = 0; r < result.keys.size(); ++r) {
      column.push_back(typed_value(result.keys.column(f), r));
    }
    keys[name] = std::move(column);
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const StatValues& v : result.rows) rows.push_back(values_json(v));
  return {{"keys", std::move(keys)},
          {"rows", std::move(rows)},
          {"others", values_json(result.others)},
          {"other_groups", result.other_groups},
          {"total", values_json(result.total)},
          {"total_groups", result.total_groups},
          {"buckets", result.buckets},
          {"series", result.series},
          {"saturated", result.saturated}};
}

Result<StatResult> stat_result_from_typed(const StatSpec& spec, const nlohmann::json& json) {
  auto fail = [](std::string_view what) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("typed answer: {}; the server and client versions differ (upgrade "
                             "the older)",
                             what)};
  };
  if (!json.is_object() || !json.contains("rows") || !json["rows"].is_array() ||
      !json.contains("keys") || !json["keys"].is_object()) {
    return fail("no rows or keys");
  }
  StatResult out;
  out.group_by = spec.group_by;
  const std::size_t n = json["rows"].size();
  out.keys.add_rows(n);
  for (const auto& row : json["rows"]) {
    auto v = values_from(row);
    if (!v) return v.error();
    out.rows.push_back(*v);
  }
  std::set<FieldId> done;
  for (const GroupKey& g : spec.group_by) {
    const FieldId f = key_column(g);
    const std::string name(field_info(f).name);
    if (!json["keys"].contains(name) || !json["keys"][name].is_array() ||
        json["keys"][name].size() != n) {
      return fail(fmt::format("the keys of {} are missing or not one per row", name));
    }
    if (!done.insert(f).second) continue;  // an item repeated (ADDR twice)
    for (std::size_t r = 0; r < n; ++r) {
      if (auto s = set_typed_value(out.keys, f, r, json["keys"][name][r]); !s) return s.error();
    }
  }
  for (const char* k : {"others", "total"}) {
    if (!json.contains(k)) return fail(fmt::format("no {}", k));
    auto v = values_from(json[k]);
    if (!v) return v.error();
    (std::string_view(k) == "others" ? out.others : out.total) = *v;
  }
  try {
    out.other_groups = json.at("other_groups").get<std::uint64_t>();
    out.total_groups = json.at("total_groups").get<std::uint64_t>();
    out.buckets = json.at("buckets").get<std::vector<std::int64_t>>();
    out.series = json.at("series").get<std::vector<std::uint64_t>>();
    out.saturated = json.at("saturated").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    return fail(e.what());
  }
  if (!out.buckets.empty() && out.series.size() != (n + 1) * out.buckets.size()) {
    return fail("the series is not one value per row and bucket");
  }
  return out;
}

}  // namespace flowscope::query
