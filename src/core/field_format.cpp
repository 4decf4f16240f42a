#include "core/field_format.h"

#include <type_traits>

#include "core/ip_proto.h"
#include "core/tcp_flags.h"

namespace flowscope {

std::string format_field(const Column& col, std::size_t row, const FieldFormatOptions& opt) {
  if (!col.valid(row)) return {};
  const FieldType type = col.info().type;
  return std::visit(
      [&](const auto& data) -> std::string {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          return std::string(data.get(row));
        } else {
          const auto& v = data[row];
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, IpAddress>) {
            return v.to_string();
          } else if constexpr (std::is_same_v<V, CountryCode>) {
            return std::string(v.view());
          } else if constexpr (std::is_same_v<V, std::int64_t>) {
            if (type == FieldType::Time) return format_time(time_from_ms(v), opt.zone);
            return format_duration(DurationMs(v));
          } else if constexpr (std::is_same_v<V, std::uint8_t>) {
            if (type == FieldType::Proto && !opt.numeric_protocol) return ip_proto::name(v);
            if (type == FieldType::TcpFlags) return tcp_flags::format(v);
            return std::to_string(v);
          } else {
            return std::to_string(v);
          }
        }
      },
      col.data());
}

std::optional<std::int64_t> numeric_field(const Column& col, std::size_t row) {
  if (!col.valid(row) || !is_numeric(col.info().type)) return std::nullopt;
  return std::visit(
      [&](const auto& data) -> std::optional<std::int64_t> {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, StringColumn> ||
                      std::is_same_v<D, std::vector<IpAddress>> ||
                      std::is_same_v<D, std::vector<CountryCode>>) {
          return std::nullopt;
        } else {
          return static_cast<std::int64_t>(data[row]);
        }
      },
      col.data());
}

}  // namespace flowscope
