#pragma once
// A stat's time series over its whole window (`stat -w`, FlowTraq's -w): execute_stat returns
// the buckets that have data; a series for `-t 'last day' -w 1h` must have its 24 buckets,
// the empty ones as zeros, or a plot and a script that counts rows see a shorter day. Used by
// the CLI and the server after execute_stat. Pure function; any thread.

#include <cstdint>

#include "query/executor.h"
#include "query/query_spec.h"

namespace flowscope::query {

// The most buckets a window is widened to; beyond it (`-t all -w 1s`) the series keeps only
// the buckets with data.
inline constexpr std::int64_t kMaxFilledBuckets = 100'000;

// Adds every bucket of [spec.where.begin_ms, spec.where.end_ms) that the result lacks, with zero
// values for every row and "others". Buckets are aligned as the store's (epoch multiples of
// spec.bucket_ms). A no-op without a bucket or for an unbounded window.
void span_window_buckets(const StatSpec& spec, StatResult& result);

}  // namespace flowscope::query
