#pragma once
// What of a scan or an aggregation ClickHouse answers itself, as SQL: the WHERE clause of a
// scan's value ranges, the columns a scan reads, and the GROUP BY query of an aggregation whose
// groups come back as rows the query engine's fixed-key aggregators merge
// (ClickHouseBackend::scan / aggregate). Pure functions of the requests; any thread.
// Internal to flowscope_clickhouse: other modules use its public headers.

#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/schema.h"
#include "core/field_registry.h"
#include "core/result.h"
#include "store/backend.h"
#include "store/ranked_aggregation.h"

namespace flowscope::clickhouse {

// The SQL condition of a scan's time window and predicates ("" when none); an error when a
// predicate's range holds no value of its type. `rollup`: over a rollup table
// (clickhouse/rollup_schema.h) instead of the flows table.
Result<std::string> where_clause(const store::ScanRequest& request, bool rollup = false);
// The stored fields a scan needs, from its requested fields and its predicates.
std::vector<FieldId> scan_columns(const store::ScanRequest& request);

// The grouping a plan or aggregate() sends to ClickHouse.
struct GroupQuery {
  std::string sql;
  std::vector<ResultItem> items;
  std::size_t aux_count = 0;  // aux 0: sessions; 1..: sums
};

// The GROUP BY query of `request` over `table` with condition `where`, and how its result
// columns map back to the request's items; `tail` (top_clause) goes after the GROUP BY. Its
// result columns: the bucket, the key validity words, the keys, then the sums as _a0 (sessions)
// and _a1.. (request.sums).
GroupQuery group_query(const store::AggregateRequest& request, const std::string& table,
                       const std::string& where, bool rollup = false, std::string_view tail = {});
// ORDER BY the ranking of `top` descending, ties by the group keys as the embedded store breaks
// them (store/ranked_aggregation.h), LIMIT top.n: the tail of a group_query without buckets.
std::string top_clause(const store::AggregateRequest& request, const store::TopRequest& top);
// One TabSeparated row over every row of the grouping: how many groups (distinct keys and key
// validity, by a GROUP BY in a scalar subquery), the sessions and each of request.sums, clamped
// as group_query's.
std::string totals_query(const store::AggregateRequest& request, const std::string& table,
                         const std::string& where, bool rollup);
// Whether a grouping can come back as rows the engine's fixed-key aggregators merge: sums into
// their own U64 columns, no column both a key and a sum.
bool groups_as_rows(const store::AggregateRequest& request);

}  // namespace flowscope::clickhouse
