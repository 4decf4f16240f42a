#include "core/field_format.h"

#include <charconv>
#include <type_traits>

#include "core/ip_proto.h"
#include "core/tcp_flags.h"

namespace flowscope {

namespace {

template <typename T>
void append_number(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

void append_field(std::string& out, const Column& col, std::size_t row,
                  const FieldFormatOptions& opt) {
  if (!col.valid(row)) return;
  const FieldType type = col.info().type;
  std::visit(
      [&](const auto& data) {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          out.append(data.get(row));
        } else {
          const auto& v = data[row];
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, IpAddress>) {
            if (opt.names != nullptr) {
              if (std::string n = opt.names->name(v); !n.empty()) {
                out.append(n);
                return;
              }
            }
            char buf[IpAddress::kMaxTextLength];
            out.append(buf, v.format_to(buf));
          } else if constexpr (std::is_same_v<V, CountryCode>) {
            out.append(v.view());
          } else if constexpr (std::is_same_v<V, std::int64_t>) {
            out.append(type == FieldType::Time ? format_time(time_from_ms(v), opt.zone)
                                               : format_duration(DurationMs(v)));
          } else if constexpr (std::is_same_v<V, std::uint8_t>) {
            if (type == FieldType::Proto && !opt.numeric_protocol) {
              out.append(ip_proto::name(v));
            } else if (type == FieldType::TcpFlags) {
              out.append(tcp_flags::format(v));
            } else {
              append_number(out, v);
            }
          } else {
            append_number(out, v);
          }
        }
      },
      col.data());
}

std::string format_field(const Column& col, std::size_t row, const FieldFormatOptions& opt) {
  std::string out;
  append_field(out, col, row, opt);
  return out;
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
