// ClickHouseBackend's read side (docs/scale-out.md "Reads", "Rollups"): scans with the whole
// filter, order and limit in SQL, and aggregations from the rollup the store's rule picks or a
// GROUP BY on the flows table.
#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "clickhouse/clickhouse_backend.h"  // IWYU pragma: associated
#include "clickhouse/filter_sql.h"
#include "clickhouse/rollup_schema.h"
#include "clickhouse/sql_pushdown.h"
#include "store/rollup_plan.h"

namespace flowscope::clickhouse {
namespace {

constexpr std::size_t kDecodeRows = 65536;

}  // namespace

Result<std::string> ClickHouseBackend::read_query(const std::string& sql) const {
  // Reads go through the first shard (its Distributed table fans out to the others).
  return shards_.front().client.query(sql);
}

Result<std::uint64_t> ClickHouseBackend::count_rows() const {
  auto r = read_query(fmt::format("SELECT count() FROM {} FORMAT TabSeparated", read_table_));
  if (!r) return r.error();
  return std::strtoull(r->c_str(), nullptr, 10);
}

Result<std::uint64_t> ClickHouseBackend::count_shard_rows(std::size_t shard) const {
  auto r =
      shards_.at(shard).client.query(fmt::format("SELECT count() FROM {}.{} FORMAT "
                                                 "TabSeparated",
                                                 options_.tables.database, options_.tables.local));
  if (!r) return r.error();
  return std::strtoull(r->c_str(), nullptr, 10);
}

Result<store::ScanStats> ClickHouseBackend::scan(const store::ScanRequest& request,
                                                 const store::ScanSink& sink) const {
  auto where = where_clause(request);
  if (!where) return where.error();
  const std::vector<FieldId> cols = scan_columns(request);
  std::vector<ResultItem> items;
  std::string sql = "SELECT ";
  for (std::size_t w = 0; w < kValidWords; ++w) {
    sql += fmt::format("{}_v{}", w ? ", " : "", w);
    items.push_back({ResultItem::Kind::Valid, static_cast<std::uint32_t>(w), FieldId::StartTime});
  }
  for (FieldId f : cols) {
    sql += ", " + value_column(f);
    items.push_back({ResultItem::Kind::Field, 0, f});
  }
  store::ScanStats stats;
  SessionBatch batch;
  std::vector<std::uint64_t> aux;
  // Decodes one result into batches for the sink; false when the sink stopped the scan.
  auto deliver_rows = [&](std::string_view rest) -> Result<bool> {
    ++stats.segments;
    while (!rest.empty()) {
      batch.clear();
      std::size_t used = 0;
      auto n = decode_rows(rest, items, 0, batch, aux, kDecodeRows, &used);
      if (!n) return n.error();
      rest.remove_prefix(used);
      stats.rows_read += *n;
      stats.rows_returned += *n;
      ++stats.blocks;
      if (!sink(batch)) return false;
    }
    return true;
  };
  // With every condition in SQL, the caller's order and limit go there too (store/backend.h):
  // ClickHouse sorts and sends the first rows only. In two steps, because 18.16 reads every
  // column of every match before a top-N sort: first the _seq of the rows (sort and filter
  // columns only), then those rows' columns (PREWHERE reads the rest only where they are).
  const bool exact = applies_filter(request);
  const std::uint64_t limit = exact ? request.limit : 0;
  if (limit > 0) {
    std::optional<std::string> order = order_sql(request.order);
    if (order) {
      auto seqs =
          read_query(fmt::format("SELECT _seq FROM {} {} ORDER BY {} LIMIT {} FORMAT "
                                 "TabSeparated",
                                 read_table_, *where, *order, limit));
      if (!seqs) return seqs.error();
      std::string list;
      for (char c : *seqs) list += c == '\n' ? ',' : c;
      while (!list.empty() && list.back() == ',') list.pop_back();
      if (list.empty()) return stats;
      auto body = read_query(
          fmt::format("{} FROM {} PREWHERE _seq IN ({}) {} ORDER BY {} LIMIT {} FORMAT RowBinary",
                      sql, read_table_, list, *where, *order, limit));
      if (!body) return body.error();
      if (auto r = deliver_rows(*body); !r) return r.error();
      return stats;
    }
  }
  // Day by day, so that a scan stopped early (a query with a limit) does not make ClickHouse
  // read and sort every day; in each, the embedded store's order: hourly partition of
  // start_time (before 1970 in the first), then arrival.
  auto days =
      read_query(fmt::format("SELECT DISTINCT {} AS d FROM {} {} ORDER BY d FORMAT "
                             "TabSeparated",
                             kDayExpr, read_table_, *where));
  if (!days) return days.error();
  std::string_view day_list = *days;
  while (!day_list.empty()) {
    const auto nl = day_list.find('\n');
    const std::string day(day_list.substr(0, nl));
    day_list = nl == std::string_view::npos ? std::string_view() : day_list.substr(nl + 1);
    if (day.empty()) continue;
    if (limit > 0 && stats.rows_returned >= limit) break;
    const std::string day_where =
        fmt::format("{} {} = {}", where->empty() ? "WHERE" : *where + " AND", kDayExpr, day);
    auto body = read_query(fmt::format(
        "{} FROM {} {} ORDER BY intDiv(greatest(start_time, 0), {}), _seq{} FORMAT RowBinary", sql,
        read_table_, day_where, kHourMs,
        limit > 0 ? fmt::format(" LIMIT {}", limit - stats.rows_returned) : std::string()));
    if (!body) return body.error();
    auto more = deliver_rows(*body);
    if (!more) return more.error();
    if (!*more) break;
  }
  return stats;
}

bool ClickHouseBackend::applies_filter(const store::ScanRequest& request) const {
  return !request.filter || filter_sql(*request.filter).has_value();
}

bool ClickHouseBackend::aggregates_natively(const store::AggregateRequest& request) const {
  (void)request;
  return true;
}

namespace {

// What a GROUP BY on raw sessions in ClickHouse is called in plans (from_rollup(): the rows
// come back grouped, as a rollup's would).
constexpr std::string_view kRawGroupView = "clickhouse";

std::uint64_t first_number(const std::string& body) {
  return std::strtoull(body.c_str(), nullptr, 10);
}

}  // namespace

bool ClickHouseBackend::rollup_complete(const store::RollupView& view, std::int64_t bucket_ms,
                                        const store::ScanRequest& scan) const {
  const std::string rollup = rollup_local(view.name, bucket_ms);
  // Rollup rows are filed by their clamped bucket (clickhouse/rollup_schema.h).
  const std::int64_t last_day = 253'402'300'799'999 / kDayMs;
  for (const Shard& shard : shards_) {
    auto parts = shard.client.query(fmt::format(
        "SELECT table, partition FROM system.parts WHERE database = {} AND active AND table IN "
        "({}, {}) GROUP BY table, partition FORMAT TabSeparated",
        sql_string(options_.tables.database), sql_string(options_.tables.local),
        sql_string(rollup)));
    if (!parts) return false;
    std::set<std::int64_t> raw_days, rolled_days;
    for (const auto& [table, partition] : tsv_pairs(*parts)) {
      const std::int64_t day = std::strtoll(std::string(partition).c_str(), nullptr, 10);
      if (table == options_.tables.local) {
        // The day's rows lie in [begin, end) (day 0 also holds those before 1970).
        const std::int64_t begin =
            day == 0 ? std::numeric_limits<std::int64_t>::min() : day * kDayMs;
        const std::int64_t end = day * kDayMs > std::numeric_limits<std::int64_t>::max() - kDayMs
                                     ? std::numeric_limits<std::int64_t>::max()
                                     : day * kDayMs + kDayMs;
        if (scan.time_bounded() && (begin >= scan.end_ms || end <= scan.begin_ms)) continue;
        raw_days.insert(std::min(day, last_day));
      } else {
        rolled_days.insert(day);
      }
    }
    for (std::int64_t d : raw_days) {
      if (!rolled_days.contains(d)) return false;
    }
  }
  return true;
}

bool ClickHouseBackend::raw_lacks_part(const store::ScanRequest& scan) const {
  std::string tables = sql_string(options_.tables.local);
  for (const store::RollupView& view : views_) {
    for (std::int64_t bucket : store::kRollupBuckets) {
      tables += ", " + sql_string(rollup_local(view.name, bucket));
    }
  }
  std::optional<std::int64_t> raw_first;
  std::vector<std::int64_t> rolled;
  for (const Shard& shard : shards_) {
    auto parts = shard.client.query(fmt::format(
        "SELECT table, partition FROM system.parts WHERE database = {} AND active AND table IN "
        "({}) GROUP BY table, partition FORMAT TabSeparated",
        sql_string(options_.tables.database), tables));
    if (!parts) return false;
    for (const auto& [table, partition] : tsv_pairs(*parts)) {
      const std::int64_t day = std::strtoll(std::string(partition).c_str(), nullptr, 10);
      if (table == options_.tables.local) {
        raw_first = raw_first ? std::min(*raw_first, day) : day;
      } else {
        rolled.push_back(day);
      }
    }
  }
  for (std::int64_t day : rolled) {
    const bool in_window = !scan.time_bounded() ||
                           (day * kDayMs < scan.end_ms && day * kDayMs + kDayMs > scan.begin_ms);
    if (in_window && (!raw_first || day < *raw_first)) return true;
  }
  return false;
}

store::AggregatePlan ClickHouseBackend::plan_aggregate(
    const store::AggregateRequest& request) const {
  if (!groups_as_rows(request)) return store::AggregatePlan::raw();
  store::AggregatePlan grouped;
  grouped.view = std::string(kRawGroupView);
  grouped.level_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(request.bucket_ms, 0));
  grouped.source = fmt::format("ClickHouse GROUP BY on {}", read_table_);
  // Rollups hold their views' keys only: a filter beyond the pushed-down ranges needs raw rows.
  if (views_.empty() || request.scan.filter) return grouped;
  // The embedded store's rule (store/rollup_plan.h) on what the cluster holds: rows in the
  // window of the flows table and of each rollup level that holds every raw day of it.
  auto where = where_clause(request.scan);
  if (!where) return grouped;
  auto raw =
      read_query(fmt::format("SELECT count() FROM {} {} FORMAT TabSeparated", read_table_, *where));
  if (!raw) return grouped;
  grouped.rows = grouped.raw_rows = first_number(*raw);
  // Where raw retention dropped part of the window, any rollup that answers wins.
  const bool partial = !views_.empty() && raw_lacks_part(request.scan);
  store::AggregatePlan plan = store::choose_aggregate_plan(
      views_, request, partial ? std::numeric_limits<std::uint64_t>::max() : grouped.rows,
      [&](const store::RollupView& view, std::int64_t bucket) -> std::optional<std::uint64_t> {
        if (!rollup_complete(view, bucket, request.scan)) return std::nullopt;
        auto rwhere = where_clause(request.scan, true);
        if (!rwhere) return std::nullopt;
        const std::string table =
            fmt::format("{}.{}", options_.tables.database,
                        shards_.size() == 1 ? rollup_local(view.name, bucket)
                                            : rollup_distributed(view.name, bucket));
        auto n = read_query(
            fmt::format("SELECT count() FROM {} {} FORMAT TabSeparated", table, *rwhere));
        if (!n) return std::nullopt;
        return first_number(*n);
      },
      " in ClickHouse");
  if (!plan.from_rollup()) return grouped;
  plan.raw_rows = grouped.raw_rows;
  return plan;
}

Result<std::string> ClickHouseBackend::run_group_query(const store::AggregateRequest& request,
                                                       const store::AggregatePlan& plan,
                                                       GroupQuery& query,
                                                       const store::TopRequest* top,
                                                       std::string* totals) const {
  const bool rollup = plan.view != kRawGroupView;
  auto where = where_clause(request.scan, rollup);
  if (!where) return where.error();
  std::string table = read_table_;
  if (rollup) {
    const auto bucket = static_cast<std::int64_t>(plan.level_ms);
    table = fmt::format("{}.{}", options_.tables.database,
                        shards_.size() == 1 ? rollup_local(plan.view, bucket)
                                            : rollup_distributed(plan.view, bucket));
  }
  query = group_query(request, table, *where, rollup,
                      top != nullptr ? top_clause(request, *top) : std::string());
  if (totals == nullptr) return read_query(query.sql);
  // The totals beside the ranked groups, at the same time (each shard works on both).
  const std::string totals_sql = totals_query(request, table, *where, rollup);
  std::optional<Result<std::string>> counted;
  std::thread counter([&] { counted.emplace(read_query(totals_sql)); });
  auto body = read_query(query.sql);
  counter.join();
  if (!*counted) return counted->error();
  *totals = std::move(**counted);
  return body;
}

bool ClickHouseBackend::answers_plan(const store::AggregatePlan& plan) const {
  if (plan.view == kRawGroupView) return true;
  return std::any_of(views_.begin(), views_.end(),
                     [&](const store::RollupView& v) { return v.name == plan.view; }) &&
         !rollup_level_name(static_cast<std::int64_t>(plan.level_ms)).starts_with("raw");
}

Result<store::ScanStats> ClickHouseBackend::scan_aggregate_rows(
    const store::AggregateRequest& request, const store::AggregatePlan& plan, unsigned workers,
    const store::WorkerScanSink& sink, store::AggregatePlan* followed) const {
  if (!plan.from_rollup() || !answers_plan(plan) || !groups_as_rows(request)) {
    if (followed != nullptr) *followed = store::AggregatePlan::raw();
    return scan_parallel(request.scan, workers, sink);
  }
  if (followed != nullptr) *followed = plan;
  GroupQuery q;
  auto body = run_group_query(request, plan, q);
  if (!body) return body.error();
  store::ScanStats stats;
  SessionBatch batch;
  std::vector<std::uint64_t> aux;
  std::string_view rest = *body;
  while (!rest.empty()) {
    batch.clear();
    aux.clear();
    std::size_t used = 0;
    auto n = decode_rows(rest, q.items, q.aux_count, batch, aux, kDecodeRows, &used);
    if (!n) return n.error();
    rest.remove_prefix(used);
    // Each row weighs its sessions, like a rollup row; sums go to their own columns.
    for (std::size_t row = 0; row < batch.size(); ++row) {
      if (request.bucket_ms > 0) batch.mutable_column(FieldId::StartTime).mark_valid(row);
      batch.set<FieldId::SessionCount>(row, aux[row * q.aux_count]);
      for (std::size_t j = 0; j < request.sums.size(); ++j) {
        Column& col = batch.mutable_column(request.sums[j]);
        col.vec<std::uint64_t>()[row] = aux[row * q.aux_count + 1 + j];
        col.mark_valid(row);
      }
    }
    stats.rows_read += *n;
    stats.rows_returned += *n;
    ++stats.blocks;
    if (!sink(0, batch)) break;
  }
  return stats;
}

Result<store::AggregateResult> ClickHouseBackend::aggregate(
    const store::AggregateRequest& request) const {
  for (FieldId f : request.group_by) {
    if (SessionBatch::column_index(f) < 0) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot group by {}: not a stored field", field_info(f).name)};
    }
  }
  for (FieldId f : request.sums) {
    if (SessionBatch::column_index(f) < 0 || !is_numeric(field_info(f).type)) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot sum {}: not a stored number", field_info(f).name)};
    }
  }
  const store::AggregatePlan plan = answering_plan(request);
  GroupQuery q;
  auto body = run_group_query(request, plan, q);
  if (!body) return body.error();
  return decode_groups(request, plan, q, *body);
}

std::optional<Result<store::TopGroups>> ClickHouseBackend::aggregate_top(
    const store::AggregateRequest& request, const store::TopRequest& top) const {
  if (top.n == 0 || request.group_by.empty() || request.bucket_ms > 0 ||
      !applies_filter(request.scan)) {
    return std::nullopt;
  }
  for (std::size_t s : top.rank_sums) {
    if (s >= request.sums.size()) return std::nullopt;
  }
  for (FieldId f : request.group_by) {
    if (SessionBatch::column_index(f) < 0) return std::nullopt;
  }
  for (FieldId f : top.tie_order) {
    if (std::find(request.group_by.begin(), request.group_by.end(), f) == request.group_by.end()) {
      return std::nullopt;
    }
  }
  for (FieldId f : request.sums) {
    if (SessionBatch::column_index(f) < 0 || !is_numeric(field_info(f).type)) return std::nullopt;
  }
  const store::AggregatePlan plan = answering_plan(request);
  GroupQuery q;
  std::string totals;
  auto body = run_group_query(request, plan, q, &top, &totals);
  if (!body) return Result<store::TopGroups>(body.error());
  store::TopGroups out;
  // The groups, the sessions, then each sum; a sum clamped: the caller ranks every group.
  std::vector<std::uint64_t> values;
  const char* p = totals.c_str();
  while (*p != 0 && *p != '\n') {
    char* end = nullptr;
    values.push_back(std::strtoull(p, &end, 10));
    if (end == p) break;
    p = *end == '\t' ? end + 1 : end;
  }
  if (values.size() != 2 + request.sums.size()) {
    return Result<store::TopGroups>(
        Error{ErrorCode::Malformed, fmt::format("unexpected ClickHouse totals: {}", totals)});
  }
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i] == std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  }
  out.total_groups = values[0];
  out.total_count = values[1];
  out.total_sums.assign(values.begin() + 2, values.end());
  auto groups = decode_groups(request, plan, q, *body);
  if (!groups) return Result<store::TopGroups>(groups.error());
  out.groups = std::move(*groups);
  out.groups.source += fmt::format(", top {} in SQL", top.n);
  return Result<store::TopGroups>(std::move(out));
}

store::AggregatePlan ClickHouseBackend::answering_plan(
    const store::AggregateRequest& request) const {
  store::AggregatePlan plan = plan_aggregate(request);
  if (!plan.from_rollup() || !answers_plan(plan)) {
    plan = {};
    plan.view = std::string(kRawGroupView);
    plan.source = fmt::format("ClickHouse GROUP BY on {}", read_table_);
  }
  return plan;
}

Result<store::AggregateResult> ClickHouseBackend::decode_groups(
    const store::AggregateRequest& request, const store::AggregatePlan& plan, const GroupQuery& q,
    const std::string& body) const {
  store::AggregateResult result;
  std::vector<std::uint64_t> aux;
  auto n = decode_rows(body, q.items, q.aux_count, result.keys, aux);
  if (!n) return n.error();
  const std::size_t nsums = request.sums.size();
  result.counts.resize(*n);
  result.sums.resize(*n * nsums);
  for (std::size_t row = 0; row < *n; ++row) {
    if (request.bucket_ms > 0) result.keys.mutable_column(FieldId::StartTime).mark_valid(row);
    result.counts[row] = aux[row * q.aux_count];
    for (std::size_t j = 0; j < nsums; ++j) {
      result.sums[row * nsums + j] = aux[row * q.aux_count + 1 + j];
    }
  }
  result.stats.rows_returned = *n;
  result.source = plan.source;
  return result;
}

}  // namespace flowscope::clickhouse
