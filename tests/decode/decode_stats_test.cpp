// The decoders' counters: one list (FLOWSCOPE_EXPORTER_COUNTERS) that summing and printing walk,
// so a counter added to the list is summed over exporters and workers without a second edit.
#include "decode/decode_stats.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace flowscope::decode {
namespace {

// Every named counter and every error kind set to a distinct value from `base`.
ExporterStats numbered(std::uint64_t base) {
  ExporterStats s;
  std::uint64_t n = base;
#define SET_COUNTER(member, desc) s.member = n++;
  FLOWSCOPE_EXPORTER_COUNTERS(SET_COUNTER)
#undef SET_COUNTER
  for (auto& e : s.errors) e = n++;
  return s;
}

std::vector<std::uint64_t> values(const ExporterStats& s) {
  std::vector<std::uint64_t> out;
  s.for_each_counter([&](std::string_view, std::uint64_t v) { out.push_back(v); });
  return out;
}

TEST(ExporterStats, SumAddsEveryCounterAndErrorKind) {
  const ExporterStats a = numbered(1);
  const ExporterStats b = numbered(1000);
  ExporterStats sum = a;
  sum += b;
  const auto va = values(a);
  const auto vb = values(b);
  const auto vs = values(sum);
  ASSERT_EQ(vs.size(), va.size());
  for (std::size_t i = 0; i < vs.size(); ++i) EXPECT_EQ(vs[i], va[i] + vb[i]) << i;
}

TEST(ExporterStats, VisitsEachCounterOnceByItsName) {
  std::set<std::string> names;
  std::size_t visits = 0;
  numbered(1).for_each_counter([&](std::string_view name, std::uint64_t) {
    names.insert(std::string(name));
    ++visits;
  });
  EXPECT_EQ(names.size(), visits);
  EXPECT_EQ(visits, values(ExporterStats{}).size());
  EXPECT_TRUE(names.contains("uptime_wraps"));
  EXPECT_TRUE(names.contains("options_templates"));
  EXPECT_TRUE(names.contains(std::string(decode_error_name(DecodeError::UnknownTemplate))));
  EXPECT_GT(visits, kDecodeErrorCount);
}

TEST(DecodeStats, TotalIsTheSumOverExporters) {
  DecodeStats stats;
  stats.of(IpAddress::v4(0xC0000201)) = numbered(1);
  stats.of(IpAddress::v4(0xC0000202)) = numbered(500);
  stats.count(IpAddress::v4(0xC0000203), DecodeError::BadSetId);
  ExporterStats want = numbered(1);
  want += numbered(500);
  ++want.errors[static_cast<std::size_t>(DecodeError::BadSetId)];
  ++want.dropped;
  EXPECT_EQ(values(stats.total()), values(want));
}

}  // namespace
}  // namespace flowscope::decode
