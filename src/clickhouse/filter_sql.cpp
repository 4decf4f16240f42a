#include "clickhouse/filter_sql.h"

#include <limits>

#include <fmt/format.h>

#include "clickhouse/schema.h"
#include "store/format.h"

namespace flowscope::clickhouse {
namespace {

constexpr std::size_t kMaxDepth = 1000;

std::string_view sql_op(Comparator op) {
  switch (op) {
    case Comparator::Eq: return "=";
    case Comparator::Ne: return "!=";
    case Comparator::Lt: return "<";
    case Comparator::Le: return "<=";
    case Comparator::Gt: return ">";
    case Comparator::Ge: return ">=";
  }
  return "=";
}

std::string int_literal(std::int64_t v) {
  if (v == std::numeric_limits<std::int64_t>::min()) return "(-9223372036854775807 - 1)";
  return fmt::format("{}", v);
}

std::string ip_literal(const IpAddress& a) {
  std::string hex;
  for (std::uint8_t b : a.bytes()) hex += fmt::format("{:02x}", b);
  return fmt::format("toFixedString(unhex('{}'), 16)", hex);
}

std::string country_literal(const CountryCode& c) {
  return fmt::format("toFixedString(unhex('{:02x}{:02x}'), 2)",
                     static_cast<std::uint8_t>(c.code[0]), static_cast<std::uint8_t>(c.code[1]));
}

// A comparison on one stored column, false where the value is absent.
std::optional<std::string> stored_leaf(FieldId field, Comparator op, const FilterValue& value) {
  const FieldInfo& f = field_info(field);
  if (SessionBatch::column_index(field) < 0) return std::nullopt;
  const std::string valid = valid_expr(field);
  const std::string col = value_column(field);
  const bool eq_or_ne = op == Comparator::Eq || op == Comparator::Ne;
  switch (f.type) {
    case FieldType::Ip: {
      const auto* c = std::get_if<Cidr>(&value);
      if (c == nullptr || !eq_or_ne) return std::nullopt;
      return fmt::format("({} AND {}({} BETWEEN {} AND {}))", valid,
                         op == Comparator::Eq ? "" : "NOT ", col, ip_literal(c->network()),
                         ip_literal(c->last()));
    }
    case FieldType::TcpFlags: {
      const auto* u = std::get_if<std::uint64_t>(&value);
      if (u == nullptr || !eq_or_ne) return std::nullopt;
      const unsigned need = static_cast<std::uint8_t>(*u);
      return fmt::format("({} AND bitAnd({}, {}) {} {})", valid, col, need, sql_op(op), need);
    }
    case FieldType::Country: {
      const auto* c = std::get_if<CountryCode>(&value);
      if (c == nullptr || !eq_or_ne) return std::nullopt;
      return fmt::format("({} AND {} {} {})", valid, col, sql_op(op), country_literal(*c));
    }
    case FieldType::String: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr || !eq_or_ne) return std::nullopt;
      return fmt::format("({} AND lower({}) {} lower({}))", valid, col, sql_op(op), sql_string(*s));
    }
    case FieldType::Time:
    case FieldType::Duration: {
      const auto* v = std::get_if<std::int64_t>(&value);
      if (v == nullptr) return std::nullopt;
      return fmt::format("({} AND {} {} {})", valid, col, sql_op(op), int_literal(*v));
    }
    default: {
      const auto* v = std::get_if<std::uint64_t>(&value);
      if (v == nullptr) return std::nullopt;
      return fmt::format("({} AND {} {} {})", valid, col, sql_op(op), *v);
    }
  }
}

// A Sum or Diff field's value as the engine computes it: absent operands are stored as 0,
// 64-bit wrapping arithmetic, signed for times and durations.
std::string derived_expr(const FieldInfo& info, bool as_signed) {
  const std::string a = value_column(info.operands[0]);
  const std::string b = value_column(info.operands[1]);
  const char op = info.kind == FieldKind::Diff ? '-' : '+';
  if (as_signed) return fmt::format("(toInt64({}) {} toInt64({}))", a, op, b);
  return fmt::format("toUInt64(toUInt64({}) {} toUInt64({}))", a, op, b);
}

std::optional<std::string> leaf(const Comparison& cmp) {
  const FieldInfo& info = field_info(cmp.field);
  switch (info.kind) {
    case FieldKind::Stored: return stored_leaf(cmp.field, cmp.op, cmp.value);
    case FieldKind::Either: {
      const FieldId a = info.operands[0], b = info.operands[1];
      if (cmp.op == Comparator::Ne) {
        auto ea = stored_leaf(a, Comparator::Eq, cmp.value);
        auto eb = stored_leaf(b, Comparator::Eq, cmp.value);
        if (!ea || !eb) return std::nullopt;
        return fmt::format("(({} OR {}) AND NOT ({} OR {}))", valid_expr(a), valid_expr(b), *ea,
                           *eb);
      }
      auto la = stored_leaf(a, cmp.op, cmp.value);
      auto lb = stored_leaf(b, cmp.op, cmp.value);
      if (!la || !lb) return std::nullopt;
      return fmt::format("({} OR {})", *la, *lb);
    }
    case FieldKind::Sum:
    case FieldKind::Diff: {
      const std::string valid =
          fmt::format("({} OR {})", valid_expr(info.operands[0]), valid_expr(info.operands[1]));
      if (SessionBatch::column_index(info.operands[0]) < 0 ||
          SessionBatch::column_index(info.operands[1]) < 0) {
        return std::nullopt;
      }
      if (const auto* s = std::get_if<std::int64_t>(&cmp.value)) {
        return fmt::format("({} AND {} {} {})", valid, derived_expr(info, true), sql_op(cmp.op),
                           int_literal(*s));
      }
      if (const auto* u = std::get_if<std::uint64_t>(&cmp.value)) {
        return fmt::format("({} AND {} {} {})", valid, derived_expr(info, false), sql_op(cmp.op),
                           *u);
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::string> node(const FilterExpr& e, std::size_t depth) {
  if (depth > kMaxDepth) return std::nullopt;
  switch (e.op) {
    case FilterExpr::Op::All: return std::string("1");
    case FilterExpr::Op::Compare: return leaf(e.cmp);
    case FilterExpr::Op::Not: {
      if (e.children.size() != 1) return std::nullopt;
      auto c = node(e.children[0], depth + 1);
      if (!c) return std::nullopt;
      return fmt::format("(NOT {})", *c);
    }
    case FilterExpr::Op::And:
    case FilterExpr::Op::Or: {
      const bool is_and = e.op == FilterExpr::Op::And;
      if (e.children.empty()) return std::string(is_and ? "1" : "0");
      std::string out = "(";
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        auto c = node(e.children[i], depth + 1);
        if (!c) return std::nullopt;
        if (i > 0) out += is_and ? " AND " : " OR ";
        out += *c;
      }
      return out + ")";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> filter_sql(const FilterExpr& filter) { return node(filter, 0); }

std::optional<std::string> order_sql(std::span<const store::ScanOrder> order) {
  std::string out;
  for (const store::ScanOrder& k : order) {
    const FieldInfo& info = field_info(k.field);
    const char* dir = k.descending ? "DESC" : "ASC";
    if (info.kind == FieldKind::Stored) {
      if (SessionBatch::column_index(k.field) < 0) return std::nullopt;
      // Absent values last either way, as the engine's sort (query/executor.cpp).
      out += fmt::format("{} DESC, {} {}, ", valid_expr(k.field), value_column(k.field), dir);
    } else if (info.kind == FieldKind::Sum || info.kind == FieldKind::Diff) {
      const bool as_signed = info.type == FieldType::Time || info.type == FieldType::Duration;
      out += fmt::format("({} OR {}) DESC, {} {}, ", valid_expr(info.operands[0]),
                         valid_expr(info.operands[1]), derived_expr(info, as_signed), dir);
    } else {
      return std::nullopt;
    }
  }
  return out + "intDiv(greatest(start_time, 0), 3600000), _seq";
}

}  // namespace flowscope::clickhouse
