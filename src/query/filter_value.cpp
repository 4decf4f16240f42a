#include "query/filter_value.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/ip_proto.h"
#include "core/tcp_flags.h"

namespace flowscope::query {
namespace {

// "[-]SECONDS[.FRACTION]" as milliseconds, rounded to the nearest; nullopt for anything else
// (units, junk) and beyond kMaxDuration.
std::optional<std::int64_t> parse_seconds_ms(std::string_view text) {
  std::size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++i;
  std::int64_t whole = 0;
  std::size_t digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
    if (whole > kMaxDuration.count() / 1000) return std::nullopt;
    whole = whole * 10 + (text[i] - '0');
  }
  std::int64_t frac_ms = 0;  // thousandths, then rounded by the next digit
  if (i < text.size() && text[i] == '.') {
    ++i;
    std::int64_t scale = 100;
    bool round_up = false;
    std::size_t frac_digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++frac_digits) {
      if (scale > 0) {
        frac_ms += (text[i] - '0') * scale;
        scale /= 10;
      } else if (frac_digits == 3) {
        round_up = text[i] >= '5';
      }
    }
    if (frac_digits == 0 && digits == 0) return std::nullopt;
    digits += frac_digits;
    if (round_up) ++frac_ms;
  }
  if (digits == 0 || i != text.size()) return std::nullopt;
  const std::int64_t ms = whole * 1000 + frac_ms;
  if (ms > kMaxDuration.count()) return std::nullopt;
  return negative ? -ms : ms;
}

Error value_error(std::string message, std::size_t offset) {
  return Error(ErrorCode::Parse, std::move(message), SourcePos{offset, 0});
}

std::uint64_t max_of(FieldType t) {
  switch (t) {
    case FieldType::U8:
    case FieldType::TcpFlags:
    case FieldType::Proto: return 0xff;
    case FieldType::U16: return 0xffff;
    case FieldType::U32: return 0xffffffffULL;
    default: return std::numeric_limits<std::uint64_t>::max();
  }
}

// Decimal or 0x hexadecimal, whole text.
std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_signed(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

bool is_name(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_' && c != '-' && c != '/' && c != '.' && c != ' ') return false;
  }
  return std::isalpha(static_cast<unsigned char>(text[0])) != 0;
}

std::string comparator_list(ComparatorSet set) {
  std::string out;
  for (Comparator c : kAllComparators) {
    if (!set.has(c)) continue;
    if (!out.empty()) out += ", ";
    out += comparator_symbol(c);
  }
  return out;
}

// The group field of the side an address field names (ADDR -> GROUP, CLNIP -> CLNGRP, SRVIP ->
// SRVGRP): the registry's sides of ADDR and GROUP (core/fields.def).
std::optional<FieldId> group_field_of(FieldId address_field) {
  if (address_field == FieldId::Addr) return FieldId::Group;
  for (int side = 0; side < 2; ++side) {
    if (address_field == on_side(FieldId::Addr, side)) return on_side(FieldId::Group, side);
  }
  return std::nullopt;
}

bool is_group_field(FieldId f) {
  return f == FieldId::Group || f == on_side(FieldId::Group, 0) || f == on_side(FieldId::Group, 1);
}

}  // namespace

std::string_view value_hint(FieldType type) {
  switch (type) {
    case FieldType::Ip: return "an IPv4/IPv6 address or CIDR (10.0.0.0/8, 2001:db8::/32)";
    case FieldType::U8: return "a number from 0 to 255";
    case FieldType::U16: return "a number from 0 to 65535";
    case FieldType::U32: return "a number from 0 to 4294967295";
    case FieldType::U64: return "a number";
    case FieldType::Time: return "a time (2026-11-24T08:00, \"2026-11-24 08:00\", epoch seconds)";
    case FieldType::Duration: return "seconds (2.5) or a duration (250ms, 10s, 5m)";
    case FieldType::Country: return "a two-letter country code (BE, US)";
    case FieldType::String: return "a name or a quoted string";
    case FieldType::TcpFlags:
      return "TCP flag names (FSYN, FACK, FRST, FFIN, FPSH, FURG, FECN, FCWR)";
    case FieldType::Proto: return "a protocol name (tcp, udp, icmp) or number";
  }
  return "a value";
}

Result<FilterExpr> make_comparison(FieldId field, std::size_t field_offset, Comparator op,
                                   std::size_t op_offset, std::string_view text,
                                   std::size_t value_offset, const FilterContext& ctx) {
  const FieldInfo& info = field_info(field);
  const ComparatorSet allowed = comparators(info);
  if (!allowed.has(op)) {
    return value_error(fmt::format("{} cannot be compared with {}; it allows {}", info.filter_name,
                                   comparator_symbol(op), comparator_list(allowed)),
                       op_offset);
  }
  if (text.empty()) {
    return value_error(fmt::format("expected {} after {} {}", value_hint(info.type),
                                   info.filter_name, comparator_symbol(op)),
                       value_offset);
  }
  Comparison cmp{field, op, std::uint64_t{0}, field_offset};
  auto bad = [&](std::size_t at = 0) {
    return value_error(fmt::format("\"{}\" is not a valid value for {}; expected {}", text,
                                   info.filter_name, value_hint(info.type)),
                       value_offset + at);
  };
  switch (info.type) {
    case FieldType::Ip: {
      auto cidr = Cidr::parse(text, Cidr::HostBits::Clear);
      if (cidr) {
        cmp.value = *cidr;
        break;
      }
      auto group_field = group_field_of(field);
      if (group_field && is_name(text) && text.find(':') == std::string_view::npos) {
        if (!ctx.groups) {
          return value_error(fmt::format("\"{}\" is not an address, and no IP groups are "
                                         "configured to resolve it as a group name",
                                         text),
                             value_offset);
        }
        auto id = ctx.groups(text);
        if (!id) {
          return value_error(fmt::format("\"{}\" is neither an address nor a known IP group", text),
                             value_offset);
        }
        cmp.field = *group_field;
        cmp.value = std::uint64_t{*id};
        break;
      }
      return bad(cidr.error().where ? cidr.error().where->offset : 0);
    }
    case FieldType::U8:
    case FieldType::U16:
    case FieldType::U32:
    case FieldType::U64: {
      if (auto v = parse_unsigned(text)) {
        if (*v > max_of(info.type)) {
          return Error(ErrorCode::OutOfRange,
                       fmt::format("{} is out of range for {}; expected {}", text, info.filter_name,
                                   value_hint(info.type)),
                       SourcePos{value_offset, 0});
        }
        cmp.value = *v;
        break;
      }
      if (is_group_field(field) && is_name(text)) {
        if (!ctx.groups) {
          return value_error(
              fmt::format("no IP groups are configured to resolve the group name \"{}\"", text),
              value_offset);
        }
        auto id = ctx.groups(text);
        if (!id) return value_error(fmt::format("unknown IP group \"{}\"", text), value_offset);
        cmp.value = std::uint64_t{*id};
        break;
      }
      return bad();
    }
    case FieldType::Proto: {
      auto p = ip_proto::parse(text);
      if (!p) return bad();
      cmp.value = std::uint64_t{*p};
      break;
    }
    case FieldType::TcpFlags: {
      if (auto v = parse_unsigned(text)) {
        if (*v > 0xff) return bad();
        cmp.value = *v;
        break;
      }
      std::uint64_t bits = 0;
      std::size_t start = 0;
      while (start <= text.size()) {
        std::size_t end = text.find_first_of("|,+", start);
        if (end == std::string_view::npos) end = text.size();
        auto bit = tcp_flags::parse_name(text.substr(start, end - start));
        if (!bit) {
          return value_error(fmt::format("\"{}\" is not a TCP flag; expected {}",
                                         text.substr(start, end - start), value_hint(info.type)),
                             value_offset + start);
        }
        bits |= *bit;
        start = end + 1;
      }
      cmp.value = bits;
      break;
    }
    case FieldType::Country: {
      auto cc = CountryCode::parse(text);
      if (!cc) return bad();
      cmp.value = *cc;
      break;
    }
    case FieldType::String: cmp.value = std::string(text); break;
    case FieldType::Time: {
      if (auto ms = parse_signed(text); ms && text.size() >= 12) {
        cmp.value = *ms;  // epoch milliseconds (13 digits today)
        break;
      }
      auto t = parse_time(text, ctx.time);
      if (!t) {
        return value_error(fmt::format("\"{}\" is not a time for {}: {}", text, info.filter_name,
                                       t.error().message),
                           value_offset + (t.error().where ? t.error().where->offset : 0));
      }
      cmp.value = to_ms(*t);
      break;
    }
    case FieldType::Duration: {
      // FlowTraq: TTIME is in seconds, with a fraction (TTIME == 2.5, TTIME > 2).
      if (auto ms = parse_seconds_ms(text)) {
        cmp.value = *ms;
        break;
      }
      auto d = parse_duration(text);
      if (!d) return bad();
      cmp.value = static_cast<std::int64_t>(d->count());
      break;
    }
  }
  return FilterExpr::compare(std::move(cmp));
}

}  // namespace flowscope::query
