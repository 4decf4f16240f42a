#include "core/filter_expr.h"

#include <fmt/format.h>

#include "core/ip_proto.h"
#include "core/tcp_flags.h"
#include "core/time.h"

namespace flowscope {
namespace {

std::string value_text(const FieldInfo& info, const FilterValue& v) {
  if (const auto* n = std::get_if<std::uint64_t>(&v)) {
    if (info.type == FieldType::Proto) return ip_proto::name(static_cast<std::uint8_t>(*n));
    if (info.type == FieldType::TcpFlags && *n != 0) {
      return tcp_flags::format_names(static_cast<std::uint8_t>(*n));
    }
    return std::to_string(*n);
  }
  if (const auto* t = std::get_if<std::int64_t>(&v)) {
    // ISO 8601 where parse_time reads it back (years 1970-9999); else epoch milliseconds,
    // zero-padded to 13 characters, which the parser reads as milliseconds.
    if (info.type == FieldType::Time && *t >= 0 && *t < 253402300799000LL) {
      return format_time(time_from_ms(*t));
    }
    if (info.type == FieldType::Time) return fmt::format("{:013d}", *t);
    // Durations read back as seconds (TTIME == 2.5): exact milliseconds as decimal seconds.
    if (info.type == FieldType::Duration) {
      const std::uint64_t mag =
          *t < 0 ? 0 - static_cast<std::uint64_t>(*t) : static_cast<std::uint64_t>(*t);
      return fmt::format("{}{}.{:03d}", *t < 0 ? "-" : "", mag / 1000, mag % 1000);
    }
    return std::to_string(*t);
  }
  if (const auto* c = std::get_if<Cidr>(&v)) {
    const bool host = c->prefix_len() == (c->is_v4() ? 32u : 128u);
    return host ? c->network().to_string() : c->to_string();
  }
  if (const auto* cc = std::get_if<CountryCode>(&v)) return std::string(cc->view());
  // Always quoted, with the parser's escapes, so that no string can end its quotes early and
  // print → parse is an identity for every value (tests/query/filter_roundtrip_test.cpp).
  const auto& s = std::get<std::string>(v);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

void write(std::string& out, const FilterExpr& e, bool nested) {
  switch (e.op) {
    case FilterExpr::Op::All:
      // Only inside "!": parsers fold it out of && and ||. True whether SESSID is set or not.
      out += nested ? "(SESSID >= 0 || !(SESSID >= 0))" : "";
      return;
    case FilterExpr::Op::Compare: {
      const FieldInfo& info = field_info(e.cmp.field);
      out += fmt::format("{} {} {}", info.filter_name, comparator_symbol(e.cmp.op),
                         value_text(info, e.cmp.value));
      return;
    }
    case FilterExpr::Op::Not:
      out += "!(";
      write(out, e.children.at(0), true);
      out += ')';
      return;
    case FilterExpr::Op::And:
    case FilterExpr::Op::Or: {
      const char* joiner = e.op == FilterExpr::Op::And ? " && " : " || ";
      if (nested) out += '(';
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i > 0) out += joiner;
        write(out, e.children[i], true);
      }
      if (nested) out += ')';
      return;
    }
  }
}

}  // namespace

std::string to_text(const FilterExpr& e) {
  std::string out;
  write(out, e, false);
  return out;
}

FilterExpr and_of(FilterExpr a, FilterExpr b) {
  if (a.op == FilterExpr::Op::All) return b;
  if (b.op == FilterExpr::Op::All) return a;
  std::vector<FilterExpr> children;
  for (FilterExpr* e : {&a, &b}) {
    if (e->op == FilterExpr::Op::And) {
      for (auto& c : e->children) children.push_back(std::move(c));
    } else {
      children.push_back(std::move(*e));
    }
  }
  return FilterExpr::make(FilterExpr::Op::And, std::move(children));
}

bool same_filter(const FilterExpr& a, const FilterExpr& b) {
  if (a.op != b.op || a.children.size() != b.children.size()) return false;
  if (a.op == FilterExpr::Op::Compare &&
      (a.cmp.field != b.cmp.field || a.cmp.op != b.cmp.op || !(a.cmp.value == b.cmp.value))) {
    return false;
  }
  for (std::size_t i = 0; i < a.children.size(); ++i) {
    if (!same_filter(a.children[i], b.children[i])) return false;
  }
  return true;
}

}  // namespace flowscope
