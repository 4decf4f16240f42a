#include "query/stat_series.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace flowscope::query {
namespace {

// The start of the bucket holding `t` (floor, also below the epoch), as store/backend.cpp.
std::int64_t bucket_of(std::int64_t t, std::int64_t size) {
  return t >= 0 ? t - t % size : t - ((t % size) + size) % size;
}

}  // namespace

void span_window_buckets(const StatSpec& spec, StatResult& result) {
  const std::int64_t size = spec.bucket_ms;
  const std::int64_t begin = spec.where.begin_ms;
  const std::int64_t end = spec.where.end_ms;
  if (size <= 0 || begin == std::numeric_limits<std::int64_t>::min() ||
      end == std::numeric_limits<std::int64_t>::max() || end <= begin) {
    return;
  }
  const std::int64_t first = bucket_of(begin, size);
  if ((end - first) / size > kMaxFilledBuckets) return;
  std::vector<std::int64_t> all;
  for (std::int64_t b = first; b < end; b += size) all.push_back(b);
  // Buckets outside the window (none in practice: the filter bounds start_time) stay.
  for (std::int64_t b : result.buckets) all.push_back(b);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  if (all.size() == result.buckets.size()) return;

  const std::size_t nb_old = result.buckets.size();
  const std::size_t nb = all.size();
  const std::size_t nrows = result.rows.size() + 1;  // + others
  std::vector<std::uint64_t> series(nrows * nb, 0);
  for (std::size_t b = 0; b < nb_old; ++b) {
    const auto at = static_cast<std::size_t>(
        std::lower_bound(all.begin(), all.end(), result.buckets[b]) - all.begin());
    for (std::size_t r = 0; r < nrows && r * nb_old + b < result.series.size(); ++r) {
      series[r * nb + at] = result.series[r * nb_old + b];
    }
  }
  result.buckets = std::move(all);
  result.series = std::move(series);
}

}  // namespace flowscope::query
