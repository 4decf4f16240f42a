#pragma once
// `flowscope store copy` and `store retention` on a cluster (docs/scale-out.md): every raw session
// of an embedded store into an empty ClickHouse cluster, in the source's scan order, so that
// `query` lists them in the same order from both; then the rollup rows of what the source's raw
// retention dropped (rollup buckets older than its first raw session) into the cluster's rollup
// tables, so that the statistics those rollups answer stay the same. One call on the caller's
// thread.

#include <cstdint>
#include <string_view>

#include "clickhouse/clickhouse_backend.h"
#include "core/result.h"
#include "store/embedded_store.h"

namespace flowscope::clickhouse {

struct CopySummary {
  std::uint64_t rows = 0;              // sessions appended to the cluster
  double seconds = 0;                  // wall time of the scan and inserts
  std::uint64_t rows_spilled_now = 0;  // of those, rows waiting in the spill queue
  std::uint64_t rollup_rows = 0;       // rollup rows of days the source keeps only as rollups
};

// Opens the cluster of `options` (creating its schema, with the source's rollup views and
// retention), refuses one that holds sessions already (the message names `url`), appends every
// batch `src` scans and flushes.
Result<CopySummary> copy_to_clickhouse(const store::EmbeddedStore& src, ClickHouseOptions options,
                                       std::string_view url);

// `flowscope store retention` on a cluster (docs/scale-out.md "Retention"): the day partitions
// of `level` ending at or before `cutoff_ms` dropped on every shard, as
// EmbeddedStore::drop_level_before does for the embedded store; never creates a database.
// Returns the partitions dropped.
Result<std::size_t> drop_level_before(ClickHouseOptions options, store::Level level,
                                      std::int64_t cutoff_ms);

}  // namespace flowscope::clickhouse
