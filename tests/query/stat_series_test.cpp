// span_window_buckets: a -w series covers the whole -t window, empty buckets as zeros, the
// values of every row and "others" kept in their buckets (F16).
#include "query/stat_series.h"

#include <gtest/gtest.h>

namespace flowscope::query {
namespace {

TEST(StatSeries, EmptyBucketsAreZerosOverTheWholeWindow) {
  StatSpec spec;
  spec.bucket_ms = 60'000;
  spec.where.begin_ms = 90'000;  // inside the bucket at 60 s
  spec.where.end_ms = 300'000;
  StatResult r;
  r.rows.resize(1);
  r.buckets = {120'000, 240'000};
  r.series = {5, 7,   // row 0
              1, 2};  // others
  span_window_buckets(spec, r);
  EXPECT_EQ(r.buckets, (std::vector<std::int64_t>{60'000, 120'000, 180'000, 240'000}));
  EXPECT_EQ(r.series, (std::vector<std::uint64_t>{0, 5, 0, 7, 0, 1, 0, 2}));
}

TEST(StatSeries, UnboundedOrHugeWindowsKeepTheBucketsWithData) {
  StatSpec spec;
  spec.bucket_ms = 1000;
  StatResult r;
  r.buckets = {5000};
  r.series = {3};
  span_window_buckets(spec, r);  // -t all
  EXPECT_EQ(r.buckets.size(), 1u);
  spec.where.begin_ms = 0;
  spec.where.end_ms = 1000 * (kMaxFilledBuckets + 10);
  span_window_buckets(spec, r);
  EXPECT_EQ(r.buckets.size(), 1u);
}

}  // namespace
}  // namespace flowscope::query
