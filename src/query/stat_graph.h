#pragma once
// A stat's time series as a stacked graph in a PNG file (`flowscope stat -g`, FlowTraq's -g with
// -gx/-gy): one band per ranked row, "others" in grey on top, time along x, the counted value
// along y, a legend of the groups. Drawn with cairo when the build found it; otherwise
// write_stat_graph returns ErrorCode::Unsupported. One call per thread (cairo surfaces are not
// shared).

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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

// What a graph draws, without the keys' columns: one label per ranked row then "others (N)",
// the bucket start times and the series (row-major, `others` last, as StatResult::series). The
// server sends it beside a remote stat's text so that `stat -srv -g` draws the same picture.
struct GraphData {
  std::vector<std::string> labels;
  std::vector<std::int64_t> buckets;
  std::vector<std::uint64_t> series;
};
GraphData graph_data(const StatResult& result, const TimeZoneRef& zone);
nlohmann::json to_json(const GraphData& data);
// Fails when the sizes do not agree (labels x buckets != series).
Result<GraphData> graph_data_from_json(const nlohmann::json& j);

// The smallest and largest graph (-gx, -gy) in pixels.
inline constexpr int kGraphMinWidth = 200;
inline constexpr int kGraphMinHeight = 120;
inline constexpr int kGraphMaxSide = 16384;

// REQUIRES: data.series.size() == data.labels.size() * data.buckets.size().
Result<void> write_graph(const std::string& path, const StatSpec& spec, const GraphData& data,
                         const GraphOptions& options);

// REQUIRES: the result has a time series (spec.bucket_ms > 0). Fails when the file cannot be
// written (naming it) or the size is below 200x120 pixels.
Result<void> write_stat_graph(const std::string& path, const StatSpec& spec,
                              const StatResult& result, const GraphOptions& options);

// A bucket giving a graph about `points` points over `window`: the first of 1s, 5s, 10s, 30s,
// 1m, 5m, 10m, 15m, 30m, 1h, 3h, 6h, 12h, 1d, 7d that is at least window / points.
std::int64_t graph_bucket_ms(std::int64_t window_ms, int points = 120);

}  // namespace flowscope::query
