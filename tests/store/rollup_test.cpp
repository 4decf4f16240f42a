#include "store/rollup.h"

#include <map>

#include <gtest/gtest.h>

#include "store/embedded_store.h"
#include "store/partition.h"

#include "store_test_support.h"

namespace flowscope::store {
namespace {

constexpr std::int64_t kDay0 = 1'763'942'400'000;  // 2025-11-24T00:00:00Z

struct Sums {
  std::uint64_t sessions = 0, cln_bytes = 0, srv_bytes = 0, cln_packets = 0, srv_packets = 0;
  friend bool operator==(const Sums&, const Sums&) = default;
};

std::ostream& operator<<(std::ostream& os, const Sums& s) {
  return os << "{sessions " << s.sessions << ", cln_bytes " << s.cln_bytes << ", srv_bytes "
            << s.srv_bytes << ", cln_packets " << s.cln_packets << ", srv_packets " << s.srv_packets
            << "}";
}

// Sums per srv_port over a scan (raw rows count 1, rollup rows their `sessions`).
std::map<std::uint16_t, Sums> sums_by_port(
    const std::function<Result<ScanStats>(const ScanSink&)>& scan) {
  std::map<std::uint16_t, Sums> out;
  auto r = scan([&](const SessionBatch& b) {
    for (std::size_t i = 0; i < b.size(); ++i) {
      Sums& s = out[b.get<FieldId::SrvPort>(i)];
      s.sessions += b.is_set(FieldId::SessionCount, i) ? b.get<FieldId::SessionCount>(i) : 1;
      s.cln_bytes += b.get<FieldId::ClnBytes>(i);
      s.srv_bytes += b.get<FieldId::SrvBytes>(i);
      s.cln_packets += b.get<FieldId::ClnPackets>(i);
      s.srv_packets += b.get<FieldId::SrvPackets>(i);
    }
    return true;
  });
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(r && r->errors.empty());
  return out;
}

TEST(Rollup, RollingUpRollupsKeepsSums) {
  SessionBatch raw = testing::make_sessions(0, 5000, kDay0, 3700);
  SessionBatch minutes = rollup_rows(raw, std::vector{FieldId::SrvPort}, kMinuteMs);
  SessionBatch days = rollup_rows(minutes, std::vector{FieldId::SrvPort}, kDayMs);
  SessionBatch direct = rollup_rows(raw, std::vector{FieldId::SrvPort}, kDayMs);
  ASSERT_EQ(days.size(), direct.size());
  EXPECT_LT(minutes.size(), raw.size());
  std::uint64_t sessions = 0;
  for (std::size_t i = 0; i < days.size(); ++i) {
    sessions += days.get<FieldId::SessionCount>(i);
    EXPECT_EQ(days.get<FieldId::StartTime>(i) % kDayMs, 0);
  }
  EXPECT_EQ(sessions, 5000u);
}

TEST(Rollup, SumsOverEachLevelEqualSumsOverRawForTheSameRange) {
  testing::TempDir dir;
  StoreOptions o;
  o.dir = dir.path();
  o.sync_interval = std::chrono::milliseconds(0);
  o.flush_rows = 7000;  // several flushes: rollup rows of one bucket spread over segments
  o.rollups = {{"by_port", {FieldId::SrvPort}}};
  auto store = EmbeddedStore::open(o);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  // Two days of sessions, one every 17 s, in batches.
  const std::size_t total = 2 * 86400 / 17;
  for (std::size_t first = 0; first < total; first += 1000) {
    const std::size_t n = std::min<std::size_t>(1000, total - first);
    ASSERT_TRUE((*store)
                    ->append(testing::make_sessions(
                        first, n, kDay0 + static_cast<std::int64_t>(first) * 17'000, 17'000))
                    .has_value());
  }
  ASSERT_TRUE((*store)->flush().has_value());

  struct Window {
    Level level;
    std::int64_t begin, end;
  };
  const Window windows[] = {
      {Level::Minute, kDay0 + 5 * kHourMs + 7 * kMinuteMs, kDay0 + 9 * kHourMs + 43 * kMinuteMs},
      {Level::Hour, kDay0 + 3 * kHourMs, kDay0 + 30 * kHourMs},
      {Level::Day, kDay0, kDay0 + 2 * kDayMs},
      {Level::Day, kDay0 + kDayMs, kDay0 + 2 * kDayMs},
  };
  for (const Window& w : windows) {
    ScanRequest req;
    req.begin_ms = w.begin;
    req.end_ms = w.end;
    auto raw = sums_by_port([&](const ScanSink& sink) { return (*store)->scan(req, sink); });
    auto rolled = sums_by_port(
        [&](const ScanSink& sink) { return (*store)->scan_rollup("by_port", w.level, req, sink); });
    ASSERT_FALSE(raw.empty());
    EXPECT_EQ(raw, rolled) << "level " << level_name(w.level);
  }
  // Rollup partitions are daily and have their own retention.
  auto stats = (*store)->partition_stats();
  std::size_t day_partitions = 0;
  for (const auto& p : stats) day_partitions += p.level == Level::Day;
  EXPECT_EQ(day_partitions, 2u);
  auto dropped = (*store)->drop_level_before(Level::Minute, kDay0 + kDayMs);
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(*dropped, 1u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "rollup" / "by_port" / "1m" / "2025-11-24"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "rollup" / "by_port" / "1d" / "2025-11-24"));
}

using GroupSums =
    std::map<std::pair<std::uint16_t, std::int64_t>, std::pair<std::uint64_t, std::uint64_t>>;

GroupSums by_port_and_bucket(const AggregateResult& r) {
  GroupSums out;
  for (std::size_t g = 0; g < r.keys.size(); ++g) {
    out[{r.keys.get<FieldId::SrvPort>(g), r.keys.get<FieldId::StartTime>(g)}] = {r.sums[g],
                                                                                 r.counts[g]};
  }
  return out;
}

TEST(Rollup, AggregatePushdownAnswersFromRollupsPlusTheTail) {
  testing::TempDir dir;
  StoreOptions o;
  o.dir = dir.path();
  o.sync_interval = std::chrono::milliseconds(0);
  o.rollups = {{"by_port", {FieldId::SrvPort}}};
  auto store = EmbeddedStore::open(o);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  ASSERT_TRUE((*store)->append(testing::make_sessions(0, 20000, kDay0, 7'000)).has_value());
  ASSERT_TRUE((*store)->flush().has_value());
  // Not sealed yet: only the raw tail has these.
  ASSERT_TRUE(
      (*store)->append(testing::make_sessions(50000, 500, kDay0 + kHourMs, 3'000)).has_value());

  AggregateRequest req;
  req.group_by = {FieldId::SrvPort};
  req.sums = {FieldId::ClnBytes};
  req.bucket_ms = kHourMs;
  req.scan.begin_ms = kDay0;
  req.scan.end_ms = kDay0 + 36 * kHourMs;
  req.scan.predicates = {ScanPredicate::equals<FieldId::SrvPort>(443)};
  auto fast = (*store)->aggregate(req);
  auto slow = aggregate_by_scan(**store, req);
  ASSERT_TRUE(fast.has_value() && slow.has_value());
  EXPECT_EQ(fast->source, "rollup by_port 1h + raw tail");
  EXPECT_EQ(slow->source, "raw");
  EXPECT_EQ(by_port_and_bucket(*fast), by_port_and_bucket(*slow));
  EXPECT_LT(fast->stats.rows_read, slow->stats.rows_read / 10);

  // Not covered by the view (client address), or not bucket-aligned: raw answers.
  AggregateRequest other = req;
  other.group_by = {FieldId::ClnAddr};
  EXPECT_EQ((*store)->aggregate(other)->source, "raw");
  other = req;
  other.scan.begin_ms += kMinuteMs / 2;
  EXPECT_EQ((*store)->aggregate(other)->source, "raw");
  // Minute buckets come from the 1m level.
  other = req;
  other.bucket_ms = 5 * kMinuteMs;
  auto minutes = (*store)->aggregate(other);
  ASSERT_TRUE(minutes.has_value());
  EXPECT_EQ(minutes->source, "rollup by_port 1m + raw tail");
  EXPECT_EQ(by_port_and_bucket(*minutes), by_port_and_bucket(*aggregate_by_scan(**store, other)));
}

}  // namespace
}  // namespace flowscope::store
