#include "clickhouse/rollup_schema.h"

#include <fmt/format.h>

#include "store/rollup.h"

namespace flowscope::clickhouse {
namespace {

// Must agree with store::partition_time (store/partition.h): rows are filed between 1970 and
// the end of 9999.
constexpr std::int64_t kLastPartitionTime = 253'402'300'799'999;

std::uint64_t key_mask(const store::RollupView& view, std::size_t word) {
  std::uint64_t mask = 0;
  for (FieldId f : view.keys) {
    const int idx = SessionBatch::column_index(f);
    if (static_cast<std::size_t>(idx) / 64 == word) mask |= std::uint64_t{1} << (idx % 64);
  }
  return mask;
}

std::string feed_select(const TableNames& t, const store::RollupView& view,
                        std::int64_t bucket_ms) {
  // Grouped per insert block (a materialized view sees one block at a time); the table's
  // merges and the queries' GROUP BY do the rest.
  std::string sql = fmt::format(
      "SELECT toInt64(intDiv(least(greatest(start_time, 0), {0}), toInt64({1})) * toInt64({1})) "
      "AS _bucket",
      kLastPartitionTime, bucket_ms);
  std::string group = "_bucket";
  for (std::size_t w = 0; w < kValidWords; ++w) {
    sql += fmt::format(", bitAnd(_v{0}, {1}) AS _k{0}", w, key_mask(view, w));
    group += fmt::format(", _k{}", w);
  }
  for (FieldId f : view.keys) {
    sql += ", " + value_column(f);
    group += ", " + value_column(f);
  }
  for (FieldId f : store::kRollupSums) {
    sql += fmt::format(", sum({}) AS {}", value_column(f), rollup_sum_column(field_info(f).name));
  }
  const std::string sessions =
      fmt::format("if({}, sessions, toUInt64(1))", valid_expr(FieldId::SessionCount));
  sql += fmt::format(", sum({}) AS _sessions", sessions);
  for (FieldId f : store::kRollupSums) {
    sql += fmt::format(", sum(toFloat64({})) AS {}", value_column(f),
                       rollup_float_column(field_info(f).name));
  }
  sql += fmt::format(", sum(toFloat64({})) AS _f_sessions", sessions);
  sql += fmt::format(" FROM {}.{}", t.database, t.local);
  return sql + "\n%WHERE% GROUP BY " + group;
}

}  // namespace

std::string_view rollup_level_name(std::int64_t bucket_ms) {
  switch (bucket_ms) {
    case 60'000: return "1m";
    case 3'600'000: return "1h";
    case 86'400'000: return "1d";
    default: return "raw";
  }
}

std::string rollup_local(std::string_view view, std::int64_t bucket_ms) {
  return fmt::format("rollup_{}_{}_local", view, rollup_level_name(bucket_ms));
}

std::string rollup_distributed(std::string_view view, std::int64_t bucket_ms) {
  return fmt::format("rollup_{}_{}", view, rollup_level_name(bucket_ms));
}

std::string rollup_float_column(std::string_view sum_column) {
  return fmt::format("_f_{}", sum_column);
}

std::string rollup_sum_column(std::string_view sum_column) {
  return fmt::format("_s_{}", sum_column);
}

std::string create_rollup_views_table(const TableNames& t) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.flowscope_rollups (name String, keys String) "
      "ENGINE = TinyLog",
      t.database);
}

std::string create_rollup_table(const TableNames& t, const store::RollupView& view,
                                std::int64_t bucket_ms) {
  std::string cols = "_bucket Int64";
  for (std::size_t w = 0; w < kValidWords; ++w) cols += fmt::format(", _k{} UInt64", w);
  std::string order = "_bucket";
  for (std::size_t w = 0; w < kValidWords; ++w) order += fmt::format(", _k{}", w);
  for (FieldId f : view.keys) {
    cols += fmt::format(", {} {}", value_column(f), column_type(field_info(f).type));
    order += ", " + value_column(f);
  }
  std::string sums;
  for (FieldId f : store::kRollupSums) {
    const std::string sc = rollup_sum_column(field_info(f).name);
    cols += fmt::format(", {} UInt64", sc);
    sums += sc + ", ";
  }
  cols += ", _sessions UInt64";
  sums += "_sessions";
  for (FieldId f : store::kRollupSums) {
    const std::string fc = rollup_float_column(field_info(f).name);
    cols += fmt::format(", {} Float64", fc);
    sums += ", " + fc;
  }
  cols += ", _f_sessions Float64";
  sums += ", _f_sessions";
  // Day partitions of the bucket, as the flows table's: retention drops them per level.
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.{} ({}) ENGINE = SummingMergeTree(({}))\n"
      "PARTITION BY intDiv(_bucket, 86400000) ORDER BY ({})",
      t.database, rollup_local(view.name, bucket_ms), cols, sums, order);
}

std::string create_rollup_distributed(const TableNames& t, const store::RollupView& view,
                                      std::int64_t bucket_ms) {
  const std::string local = rollup_local(view.name, bucket_ms);
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {0}.{1} AS {0}.{2} ENGINE = Distributed({3}, {0}, {2})",
      t.database, rollup_distributed(view.name, bucket_ms), local, t.cluster);
}

std::string create_rollup_feed(const TableNames& t, const store::RollupView& view,
                               std::int64_t bucket_ms) {
  std::string select = feed_select(t, view, bucket_ms);
  select.replace(select.find("%WHERE%"), 7, "");
  return fmt::format("CREATE MATERIALIZED VIEW IF NOT EXISTS {0}.{1}_feed TO {0}.{1} AS {2}",
                     t.database, rollup_local(view.name, bucket_ms), select);
}

std::string backfill_rollup(const TableNames& t, const store::RollupView& view,
                            std::int64_t bucket_ms, std::uint64_t seq_end) {
  std::string select = feed_select(t, view, bucket_ms);
  select.replace(select.find("%WHERE%"), 7, fmt::format("WHERE _seq < {}", seq_end));
  return fmt::format("INSERT INTO {}.{} {}", t.database, rollup_local(view.name, bucket_ms),
                     select);
}

}  // namespace flowscope::clickhouse
