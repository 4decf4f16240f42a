#pragma once
// Internal to flowscope_clickhouse: other modules use its public headers.
// ClickHouse rollup tables (docs/scale-out.md "Rollups"): for every rollup view the store is
// configured with (store::RollupView, the same configuration as the embedded store's) and every
// level (1 minute, 1 hour, 1 day), a SummingMergeTree per shard fed by a materialized view on
// that shard's flows table, so the very blocks flowscope inserts there (and replays from its
// spill queue) are rolled up as they go in. Rows are grouped as the embedded store's rollups
// are (store/rollup.h): the view's keys with their validity bits and the bucket of start_time
// (clamped into 1970..9999 as store partitions are), summing client/server bytes and packets
// and sessions. Columns:
//   _bucket Int64        the bucket's start (the rollup row's start_time)
//   _k0.._kN UInt64      validity bits of the view's keys (bits as in the flows table's _v)
//   one column per key field (named and typed as in the flows table; an Ip key: NAME_v6)
//   _s_cln_bytes, _s_srv_bytes, _s_cln_packets, _s_srv_packets, _sessions UInt64
//                        exact sums (wrap at 2^64)
//   _f_cln_bytes, ... _f_sessions Float64    the same summed as floats, to clamp as the embedded
//                                            store does where an exact sum passes 2^64
// Names differ from the flows table's where the value is not the same (ClickHouse 18.16
// substitutes aliases into a query's other expressions, sum(x) AS x included). Pure functions; any
// thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "clickhouse/schema.h"
#include "store/embedded_store.h"

namespace flowscope::clickhouse {

// "1m", "1h", "1d".
std::string_view rollup_level_name(std::int64_t bucket_ms);
// Per shard: rollup_VIEW_LEVEL_local; read through rollup_VIEW_LEVEL (Distributed).
std::string rollup_local(std::string_view view, std::int64_t bucket_ms);
std::string rollup_distributed(std::string_view view, std::int64_t bucket_ms);
// The columns of a rollup sum of flows column NAME: its exact sum "_s_NAME" and its float twin
// "_f_NAME" (sessions: _sessions and _f_sessions).
std::string rollup_sum_column(std::string_view sum_column);
std::string rollup_float_column(std::string_view sum_column);

// The views this cluster keeps: one row (name, comma-joined key fields) per view.
std::string create_rollup_views_table(const TableNames& t);
// DDL of one view at one level, in order: the table, the Distributed table over it, the
// materialized view that feeds it from the flows table.
std::string create_rollup_table(const TableNames& t, const store::RollupView& view,
                                std::int64_t bucket_ms);
std::string create_rollup_distributed(const TableNames& t, const store::RollupView& view,
                                      std::int64_t bucket_ms);
std::string create_rollup_feed(const TableNames& t, const store::RollupView& view,
                               std::int64_t bucket_ms);
// Rolls up what the shard's flows table already holds below sequence `seq_end` (a view
// created on a non-empty cluster): INSERT INTO the table the feed's SELECT.
std::string backfill_rollup(const TableNames& t, const store::RollupView& view,
                            std::int64_t bucket_ms, std::uint64_t seq_end);

}  // namespace flowscope::clickhouse
