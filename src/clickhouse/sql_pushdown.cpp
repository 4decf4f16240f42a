#include "clickhouse/sql_pushdown.h"

#include <fmt/format.h>

#include "clickhouse/filter_sql.h"
#include "clickhouse/rollup_schema.h"
#include "store/format.h"

namespace flowscope::clickhouse {
namespace {

std::string hex(const std::uint8_t* p, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", p[i]);
  return out;
}

// One bound of a scan predicate as a SQL literal of the field's type; nullopt when the bound is
// the type's extreme (no condition needed).
struct Bounds {
  std::optional<std::string> lo, hi;
  bool empty = false;  // no value of the type lies in the range
};

Bounds sql_bounds(FieldType type, const store::OrderKey& lo, const store::OrderKey& hi) {
  Bounds b;
  switch (type) {
    case FieldType::Ip: {
      auto lit = [](const store::OrderKey& k) {
        std::uint8_t bytes[16];
        for (int i = 0; i < 8; ++i) {
          bytes[i] = static_cast<std::uint8_t>(k.hi >> (56 - 8 * i));
          bytes[8 + i] = static_cast<std::uint8_t>(k.lo >> (56 - 8 * i));
        }
        return fmt::format("toFixedString(unhex('{}'), 16)", hex(bytes, 16));
      };
      if (lo != store::OrderKey::min()) b.lo = lit(lo);
      if (hi != store::OrderKey::max()) b.hi = lit(hi);
      return b;
    }
    case FieldType::Country: {
      auto lit = [](std::uint64_t v) {
        const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(v >> 8),
                                       static_cast<std::uint8_t>(v)};
        return fmt::format("toFixedString(unhex('{}'), 2)", hex(bytes, 2));
      };
      if (lo.hi != 0 || lo.lo > 0xffff) {
        b.empty = true;
        return b;
      }
      if (lo.lo != 0) b.lo = lit(lo.lo);
      if (hi.hi == 0 && hi.lo < 0xffff) b.hi = lit(hi.lo);
      return b;
    }
    case FieldType::Time:
    case FieldType::Duration: {
      if (lo.hi != 0) {
        b.empty = true;
        return b;
      }
      if (lo.lo != 0) b.lo = fmt::format("{}", static_cast<std::int64_t>(lo.lo ^ store::kSignFlip));
      if (hi.hi == 0 && hi.lo != ~std::uint64_t{0}) {
        b.hi = fmt::format("{}", static_cast<std::int64_t>(hi.lo ^ store::kSignFlip));
      }
      return b;
    }
    default: {
      if (lo.hi != 0) {
        b.empty = true;
        return b;
      }
      if (lo.lo != 0) b.lo = fmt::format("{}", lo.lo);
      if (hi.hi == 0 && hi.lo != ~std::uint64_t{0}) b.hi = fmt::format("{}", hi.lo);
      return b;
    }
  }
}

// sum() wraps at 2^64 in ClickHouse; the embedded store clamps there (core/saturating.h). A
// float sum beside it tells when the exact one went past: within 2^64 by less than the float's
// rounding error (about n * 2^11) a sum could clamp where the embedded store would not.
std::string saturating_sum(const std::string& expr, const std::string& float_expr) {
  return fmt::format(
      "if(sum({1}) >= 18446744073709551615., toUInt64(18446744073709551615), "
      "toUInt64(sum({0})))",
      expr, float_expr);
}
std::string saturating_sum(const std::string& expr) {
  return saturating_sum(expr, fmt::format("toFloat64({})", expr));
}

// The validity test of a field in the flows table (_v words) or a rollup table (_k words).
std::string valid_in(FieldId field, bool rollup) {
  if (!rollup) return valid_expr(field);
  const int index = SessionBatch::column_index(field);
  return fmt::format("bitAnd(_k{}, {}) != 0", index / 64, std::uint64_t{1} << (index % 64));
}

// The saturating sums of a grouping: sessions (a session without a count is one) and a field.
std::string session_sum(bool rollup) {
  return rollup ? saturating_sum("_sessions", "_f_sessions")
                : saturating_sum(fmt::format("if({}, sessions, toUInt64(1))",
                                             valid_expr(FieldId::SessionCount)));
}
std::string field_sum(FieldId f, bool rollup) {
  return rollup ? saturating_sum(rollup_sum_column(field_info(f).name),
                                 rollup_float_column(field_info(f).name))
                : saturating_sum(value_column(f));
}

// The 8 bytes of a UInt64 expression reversed (what the embedded store's tie order compares,
// store/ranked_aggregation.h): the bytes are disjoint, so their sum is their bitOr.
std::string byte_swapped(const std::string& x, int bytes) {
  std::string out = "(";
  for (int i = 0; i < bytes; ++i) {
    out += fmt::format("{}bitShiftLeft(bitAnd(bitShiftRight({}, {}), 255), {})", i ? " + " : "", x,
                       8 * i, 8 * (bytes - 1 - i));
  }
  return out + ")";
}

// The tie keys of one group field in rank order, ascending.
std::vector<std::string> tie_keys(FieldId f) {
  const std::string col = value_column(f);
  // Validity through the grouped validity words (_g0.., group_query): the raw words are not
  // grouped.
  const int index = SessionBatch::column_index(f);
  std::vector<std::string> keys = {
      fmt::format("(bitAnd(_g{}, {}) != 0)", index / 64, std::uint64_t{1} << (index % 64))};
  switch (field_info(f).type) {
    case FieldType::Ip: keys.push_back(col); break;
    case FieldType::String:
      keys.push_back(byte_swapped(fmt::format("toUInt64(length({}))", col), 4));
      keys.push_back(col);
      break;
    case FieldType::Time:
    case FieldType::Duration:
      keys.push_back(
          byte_swapped(fmt::format("bitXor(toUInt64({}), 9223372036854775808)", col), 8));
      break;
    case FieldType::Country:
      keys.push_back(
          byte_swapped(fmt::format("toUInt64(reinterpretAsUInt16(reverse({})))", col), 8));
      break;
    default: keys.push_back(byte_swapped(fmt::format("toUInt64({})", col), 8)); break;
  }
  return keys;
}

}  // namespace

std::string top_clause(const store::AggregateRequest& request, const store::TopRequest& top) {
  std::string rank = "_a0";
  if (!top.rank_sums.empty()) {
    rank = fmt::format("_a{}", top.rank_sums[0] + 1);
    for (std::size_t i = 1; i < top.rank_sums.size(); ++i) {
      const std::string next = fmt::format("_a{}", top.rank_sums[i] + 1);
      // Clamped at 2^64 - 1 as sat_add (core/saturating.h).
      rank =
          fmt::format("if({0} + {1} < {1}, toUInt64(18446744073709551615), {0} + {1})", rank, next);
    }
  }
  std::string out = fmt::format("ORDER BY {} DESC", rank);
  for (FieldId f : top.tie_order.empty() ? request.group_by : top.tie_order) {
    for (const std::string& k : tie_keys(f)) out += ", " + k;
  }
  return out + fmt::format(" LIMIT {}", top.n);
}

std::string totals_query(const store::AggregateRequest& request, const std::string& table,
                         const std::string& where, bool rollup) {
  std::string groups;
  std::uint64_t masks[kValidWords] = {};
  for (FieldId f : request.group_by) {
    const int idx = SessionBatch::column_index(f);
    masks[idx / 64] |= std::uint64_t{1} << (idx % 64);
  }
  for (std::size_t w = 0; w < kValidWords; ++w) {
    if (masks[w] == 0) continue;
    groups += fmt::format("{}bitAnd({}{}, {})", groups.empty() ? "" : ", ", rollup ? "_k" : "_v", w,
                          masks[w]);
  }
  for (FieldId f : request.group_by) groups += ", " + value_column(f);
  // The groups counted by a GROUP BY of their own (exact: no hashes of the keys compared).
  std::string sql =
      fmt::format("SELECT (SELECT count() FROM (SELECT 1 FROM {} {} GROUP BY {})), {}", table,
                  where, groups, session_sum(rollup));
  for (FieldId f : request.sums) sql += ", " + field_sum(f, rollup);
  return sql + fmt::format(" FROM {} {} FORMAT TabSeparated", table, where);
}

Result<std::string> where_clause(const store::ScanRequest& request, bool rollup) {
  std::vector<std::string> conds;
  const std::string_view time = rollup ? "_bucket" : "start_time";
  if (request.time_bounded()) {
    // A bounded window leaves out sessions without a start_time (store/backend.h); a rollup
    // row always has one (its bucket).
    if (!rollup) conds.push_back(valid_expr(FieldId::StartTime));
    if (request.begin_ms != std::numeric_limits<std::int64_t>::min()) {
      conds.push_back(fmt::format("{} >= {}", time, request.begin_ms));
    }
    if (request.end_ms != std::numeric_limits<std::int64_t>::max()) {
      conds.push_back(fmt::format("{} < {}", time, request.end_ms));
    }
  }
  for (const store::ScanPredicate& p : request.predicates) {
    const FieldInfo& f = field_info(p.field);
    if (SessionBatch::column_index(p.field) < 0 || !store::has_order_key(f.type)) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot push a range on {} down to ClickHouse", f.name)};
    }
    if (p.hi < p.lo) return std::string("WHERE 0");
    const Bounds b = sql_bounds(f.type, p.lo, p.hi);
    if (b.empty) return std::string("WHERE 0");
    conds.push_back(valid_in(p.field, rollup));
    const std::string col = value_column(p.field);
    if (b.lo) conds.push_back(fmt::format("{} >= {}", col, *b.lo));
    if (b.hi) conds.push_back(fmt::format("{} <= {}", col, *b.hi));
  }
  // The whole filter when the ranges are not all of it (the engine tests the rows again, so a
  // filter with no SQL form here is left to it).
  if (!rollup && request.filter) {
    if (auto f = filter_sql(*request.filter)) conds.push_back(*f);
  }
  if (conds.empty()) return std::string();
  std::string out = "WHERE ";
  for (std::size_t i = 0; i < conds.size(); ++i) {
    if (i > 0) out += " AND ";
    out += conds[i];
  }
  return out;
}

std::vector<FieldId> scan_columns(const store::ScanRequest& request) {
  std::vector<FieldId> cols;
  if (request.columns.empty()) {
    const auto all = fields_of(RecordKind::Session, true);
    cols.assign(all.begin(), all.end());
  } else {
    for (FieldId f : request.columns) {
      if (SessionBatch::column_index(f) >= 0 &&
          std::find(cols.begin(), cols.end(), f) == cols.end()) {
        cols.push_back(f);
      }
    }
  }
  return cols;
}

GroupQuery group_query(const store::AggregateRequest& request, const std::string& table,
                       const std::string& where, bool rollup, std::string_view tail) {
  GroupQuery q;
  std::vector<std::string> select, group;
  if (request.bucket_ms > 0) {
    const auto b = request.bucket_ms;
    // The bucket as Int64: ClickHouse types `Int64 % 60000` as Int16, which wraps.
    select.push_back(fmt::format(
        "toInt64({0} - ((({0} % toInt64({1})) + toInt64({1})) % toInt64({1}))) AS _grp_bucket",
        rollup ? "_bucket" : "start_time", b));
    group.push_back("_grp_bucket");
    q.items.push_back({ResultItem::Kind::Field, 0, FieldId::StartTime});
  }
  // Absent and present-zero keys are different groups, as in the embedded store: group by the
  // validity bits of the keys too.
  std::uint64_t masks[kValidWords] = {};
  for (FieldId f : request.group_by) {
    const int idx = SessionBatch::column_index(f);
    masks[idx / 64] |= std::uint64_t{1} << (idx % 64);
  }
  for (std::size_t w = 0; w < kValidWords; ++w) {
    if (masks[w] == 0) continue;
    select.push_back(
        fmt::format("bitAnd({2}{0}, {1}) AS _g{0}", w, masks[w], rollup ? "_k" : "_v"));
    group.push_back(fmt::format("_g{}", w));
    q.items.push_back({ResultItem::Kind::Valid, static_cast<std::uint32_t>(w), FieldId::StartTime});
  }
  for (FieldId f : request.group_by) {
    select.push_back(value_column(f));
    group.push_back(value_column(f));
    q.items.push_back({ResultItem::Kind::Field, 0, f});
  }
  // A rollup table holds the sums and their float twins (clickhouse/rollup_schema.h).
  select.push_back(session_sum(rollup) + " AS _a0");
  q.items.push_back({ResultItem::Kind::Aux, 0, FieldId::StartTime});
  for (std::size_t j = 0; j < request.sums.size(); ++j) {
    const FieldId f = request.sums[j];
    select.push_back(fmt::format("{} AS _a{}", field_sum(f, rollup), j + 1));
    q.items.push_back(
        {ResultItem::Kind::Aux, static_cast<std::uint32_t>(j + 1), FieldId::StartTime});
  }
  q.aux_count = 1 + request.sums.size();
  q.sql = "SELECT ";
  for (std::size_t i = 0; i < select.size(); ++i) q.sql += (i ? ", " : "") + select[i];
  q.sql += fmt::format(" FROM {} {}", table, where);
  if (!group.empty()) {
    q.sql += " GROUP BY ";
    for (std::size_t i = 0; i < group.size(); ++i) q.sql += (i ? ", " : "") + group[i];
  }
  if (!tail.empty()) q.sql += fmt::format(" {}", tail);
  q.sql += " FORMAT RowBinary";
  return q;
}

// Whether a grouping can come back as rows the engine's fixed-key aggregators merge: sums into
// their own U64 columns, no column both a key and a sum.
bool groups_as_rows(const store::AggregateRequest& request) {
  for (FieldId s : request.sums) {
    if (SessionBatch::column_index(s) < 0 || field_info(s).type != FieldType::U64) return false;
    if (s == FieldId::SessionCount) return false;
    if (std::find(request.group_by.begin(), request.group_by.end(), s) != request.group_by.end())
      return false;
  }
  for (FieldId g : request.group_by) {
    if (SessionBatch::column_index(g) < 0) return false;
    if (g == FieldId::SessionCount) return false;
    if (g == FieldId::StartTime && request.bucket_ms > 0) return false;
  }
  return true;
}

}  // namespace flowscope::clickhouse
