#pragma once
// A stat's time series as a stacked graph in a PNG file (`flowscope stat -g`, FlowTraq's -g with
// -gx/-gy): one band per ranked row, "others" in grey on top, time along x, the counted value
// along y, a legend of the groups. Drawn with cairo when the build found it; otherwise
// write_stat_graph returns ErrorCode::Unsupported. One call per thread (cairo surfaces are not
// shared).

#include <chrono>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "query/executor.h"
#include "query/query_spec.h"

namespace flowscope::query {

struct GraphOptions {
  int width = 900;   // pixels (-gx)
  int height = 450;  // pixels (-gy)
  TimeZoneRef zone;  // for the time axis
};

// REQUIRES: the result has a time series (spec.bucket_ms > 0). Fails when the file cannot be
// written (naming it) or the size is below 200x120 pixels.
Result<void> write_stat_graph(const std::string& path, const StatSpec& spec,
                              const StatResult& result, const GraphOptions& options);

// A bucket giving a graph about `points` points over `window`: the first of 1s, 5s, 10s, 30s,
// 1m, 5m, 10m, 15m, 30m, 1h, 3h, 6h, 12h, 1d, 7d that is at least window / points.
std::int64_t graph_bucket_ms(std::int64_t window_ms, int points = 120);

}  // namespace flowscope::query
