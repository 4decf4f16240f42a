// The ClickHouse backend's pushdown (issue 20, docs/scale-out.md "Reads", "Rollups"): the
// whole filter, order and limit as SQL, and rollup tables chosen by the embedded store's rule
// agreeing with the embedded store before and after retention, against local clickhouse-server
// processes (skipped when it is not installed).
#include <algorithm>
#include <array>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "clickhouse/clickhouse_backend.h"
#include "clickhouse/clickhouse_cluster.h"
#include "clickhouse/cluster_suite.h"
#include "clickhouse/filter_sql.h"
#include "query/executor.h"
#include "query/filter_parser.h"
#include "store/embedded_store.h"
#include "store/store_config.h"
#include "store/store_test_support.h"

#include "test_support.h"

namespace flowscope::clickhouse {
namespace {

using store::testing::fill_every_field;
using store::testing::TempDir;

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kStart = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

class ClickHousePushdown : public testing::ClusterSuite<ClickHousePushdown> {
 protected:
  static std::unique_ptr<ClickHouseBackend> open(const std::string& url) {
    auto o = parse_clickhouse_url(url);
    EXPECT_TRUE(o) << o.error().message;
    auto b = ClickHouseBackend::open(std::move(*o));
    EXPECT_TRUE(b) << b.error().message;
    return b ? std::move(*b) : nullptr;
  }
};

// The whole filter as SQL (clickhouse/filter_sql.h): with -n, ClickHouse sends only the rows
// asked for, also sorted (top N); what has no SQL form is left to the engine.
TEST_F(ClickHousePushdown, WholeFilterOrderAndLimitGoToClickHouse) {
  auto b = open(cluster_->url("push2"));
  ASSERT_TRUE(b);
  const SessionBatch gen = testing::generated_sessions(6000, 21, kStart, kDay);
  ASSERT_TRUE(b->append(gen));
  ASSERT_TRUE(b->flush());
  auto tree = query::parse_filter("SRVPORT == 53 || !(PROTO == tcp) || TOTBYTS > 100000");
  ASSERT_TRUE(tree) << tree.error().message;
  store::ScanRequest req;
  req.filter = std::make_shared<const FilterExpr>(*tree);
  EXPECT_TRUE(b->applies_filter(req));
  ASSERT_TRUE(filter_sql(*tree));
  // Every match, then the first 25 only, then the top 25 by total bytes.
  std::vector<std::uint64_t> all_bytes;
  auto all = b->scan(req, [&](const SessionBatch& batch) {
    for (std::size_t r = 0; r < batch.size(); ++r) {
      all_bytes.push_back(batch.get<FieldId::ClnBytes>(r) + batch.get<FieldId::SrvBytes>(r));
    }
    return true;
  });
  ASSERT_TRUE(all);
  ASSERT_GT(all->rows_read, 100u);
  EXPECT_LT(all->rows_read, gen.size());  // filtered in ClickHouse
  req.limit = 25;
  std::size_t got = 0;
  auto first = b->scan(req, [&](const SessionBatch& batch) {
    got += batch.size();
    return true;
  });
  ASSERT_TRUE(first);
  EXPECT_EQ(first->rows_read, 25u);
  EXPECT_EQ(got, 25u);
  req.order = {{FieldId::TotalBytes, true}};
  std::vector<std::uint64_t> top;
  auto sorted = b->scan(req, [&](const SessionBatch& batch) {
    for (std::size_t r = 0; r < batch.size(); ++r) {
      top.push_back(batch.get<FieldId::ClnBytes>(r) + batch.get<FieldId::SrvBytes>(r));
    }
    return true;
  });
  ASSERT_TRUE(sorted);
  EXPECT_EQ(sorted->rows_read, 25u);
  std::sort(all_bytes.begin(), all_bytes.end(), std::greater<>());
  all_bytes.resize(25);
  EXPECT_EQ(top, all_bytes);
}

TEST(FilterSql, EveryKindOfNodeOrNone) {
  for (const char* text :
       {"SRVPORT == 53 || !(PROTO == tcp)", "ADDR != 10.0.0.0/8", "PORT >= 1024 && PORT < 2000",
        "TOTBYTS > 5 || TTIME <= 1s", "APP == Http", "CLNCC != de", "FLAGS == FACK", "CLNGRP == 7",
        "STARTTIME >= 2026-01-01T00:00:00Z", "BYTES != 0"}) {
    auto tree = query::parse_filter(text);
    ASSERT_TRUE(tree) << text << ": " << tree.error().message;
    auto sql = filter_sql(*tree);
    ASSERT_TRUE(sql) << text;
    EXPECT_NE(sql->find("bitAnd(_v"), std::string::npos) << text << " tests validity: " << *sql;
  }
  EXPECT_EQ(*filter_sql(FilterExpr::all()), "1");
  // A comparator the engine has no meaning for on addresses stays with the engine.
  FilterExpr odd =
      FilterExpr::compare({FieldId::ClnAddr, Comparator::Lt, Cidr::parse("10.0.0.0/8").value(), 0});
  EXPECT_FALSE(filter_sql(odd));
  EXPECT_TRUE(order_sql(std::vector<store::ScanOrder>{{FieldId::TotalTime, true}}));
  EXPECT_FALSE(order_sql(std::vector<store::ScanOrder>{{FieldId::Addr, false}}));
}

// Rollups (docs/scale-out.md "Rollups"): the store's rollup views kept in ClickHouse too, fed
// by the same inserts, chosen by the embedded store's rule (store/rollup_plan.h); answers agree
// with the embedded store's before retention and after it dropped raw days and rollup levels.
TEST_F(ClickHousePushdown, RetentionAndRollupsAgree) {
  const std::vector<store::RollupView> views = {{"by_port", {FieldId::SrvPort, FieldId::Proto}},
                                                {"hosts", {FieldId::ClnAddr, FieldId::SrvAddr}}};
  TempDir dir;
  const std::filesystem::path data = dir.path() / "data";
  std::filesystem::create_directories(data);
  store::StoreConfig config;
  config.rollups = views;
  ASSERT_TRUE(store::save_store_config(data, config));
  {
    store::StoreOptions so;
    so.dir = data;
    auto s = store::EmbeddedStore::open(so);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE((*s)->append(testing::generated_sessions(9000, 17, kStart, 3 * kDay)));
    SessionBatch odd;  // absent keys, zero keys, extreme counters (sums clamp at 2^64 - 1)
    for (std::uint64_t v = 2; v < 200; ++v) {
      fill_every_field(odd, odd.add_row(), v, kStart + static_cast<std::int64_t>(v) * 900'000);
    }
    ASSERT_TRUE((*s)->append(odd));
    ASSERT_TRUE((*s)->close());
  }
  struct Question {
    const char* grp;  // "" for totals
    const char* count;
    std::int64_t begin, end, bucket;
  };
  const std::int64_t unbounded_lo = std::numeric_limits<std::int64_t>::min();
  const std::int64_t unbounded_hi = std::numeric_limits<std::int64_t>::max();
  const std::vector<Question> questions = {
      {"srvport", "bytes", unbounded_lo, unbounded_hi, 0},
      {"srvport,proto", "sessions", kStart, kStart + 3 * kDay, 0},
      {"proto", "packets", kStart + kDay, kStart + 3 * kDay, 3'600'000},
      {"srvport", "bytes", kStart + 2 * kDay, kStart + 3 * kDay, 0},
      {"srvport", "sessions", kStart, kStart + kDay, 0},  // a day retention drops below
      {"pair", "bytes", kStart + 2 * kDay, kStart + 2 * kDay + 3'600'000, 60'000},
      {"host", "sessions", unbounded_lo, unbounded_hi, 86'400'000},
      {"", "bytes", kStart + 2 * kDay, kStart + 3 * kDay, 3'600'000},
  };
  auto ask = [&](const store::Backend& b, const Question& q) {
    query::StatSpec ss;
    ss.where.begin_ms = q.begin;
    ss.where.end_ms = q.end;
    if (*q.grp != 0) ss.group_by = *query::parse_group_spec(q.grp);
    EXPECT_TRUE(query::parse_count_spec(q.count, ss));
    ss.top = 0;
    ss.bucket_ms = q.bucket;
    auto r = query::execute_stat(b, ss);
    EXPECT_TRUE(r) << r.error().message;
    query::StatResult out;
    if (r) out = std::move(*r);
    return out;
  };
  bool one_shard = true;
  auto same = [&](const store::Backend& emb, const store::Backend& ch, const std::string& when) {
    std::size_t from_rollups = 0;
    for (const Question& q : questions) {
      const std::string shown =
          fmt::format("{} {} [{}, {}) w={} {}", q.grp, q.count, q.begin, q.end, q.bucket, when);
      const query::StatResult a = ask(emb, q);
      const query::StatResult b = ask(ch, q);
      // The same rule chose: both from a rollup or both from raw sessions. It weighs the rows
      // each holds: one shard holds the embedded store's (one block per day, rolled up per
      // block); two split some groups between them, so near ties may go the other way there.
      if (one_shard) {
        EXPECT_EQ(a.stats.source.starts_with("rollup"), b.stats.source.starts_with("rollup"))
            << shown << ": " << a.stats.source << " / " << b.stats.source;
      }
      from_rollups += b.stats.source.starts_with("rollup");
      EXPECT_EQ(a.rows.size(), b.rows.size()) << shown;
      for (std::size_t i = 0; i < std::min(a.rows.size(), b.rows.size()); ++i) {
        EXPECT_EQ(a.rows[i].value, b.rows[i].value) << shown << " row " << i;
        EXPECT_EQ(a.rows[i].sessions, b.rows[i].sessions) << shown << " row " << i;
      }
      EXPECT_EQ(a.total.value, b.total.value) << shown;
      EXPECT_EQ(a.total.sessions, b.total.sessions) << shown;
      EXPECT_EQ(a.total_groups, b.total_groups) << shown;
      EXPECT_EQ(a.buckets, b.buckets) << shown;
      EXPECT_EQ(a.series, b.series) << shown;
      EXPECT_EQ(a.saturated, b.saturated) << shown;
    }
    return from_rollups;
  };
  const auto now = kStart + 3 * kDay;
  int round = 0;
  for (const std::string& url : {cluster_->first_shard_url("roll1"), cluster_->url("roll2")}) {
    // The embedded store (a fresh copy each round: retention below changes it).
    const std::filesystem::path copy_dir = dir.path() / fmt::format("emb{}", ++round);
    std::filesystem::copy(data, copy_dir, std::filesystem::copy_options::recursive);
    // store copy takes the views from store.json; the cluster keeps them.
    const auto copy = flowscope::testing::run_flowscope(
        {"store", "copy", "--from", copy_dir.string(), "--to", url});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    auto ch = open(url);
    ASSERT_TRUE(ch);
    one_shard = ch->options().shards.size() == 1;
    ASSERT_EQ(ch->rollup_views().size(), 2u);
    EXPECT_EQ(ch->rollup_views()[0].name, "by_port");
    EXPECT_EQ(ch->rollup_views()[1].keys, views[1].keys);
    store::StoreOptions so;
    so.dir = copy_dir;
    auto emb = store::EmbeddedStore::open(so);
    ASSERT_TRUE(emb) << emb.error().message;
    EXPECT_GE(same(**emb, *ch, "before retention"), 5u) << url;

    // The same keys under another view name are fine; other keys under a known name are not.
    auto o = parse_clickhouse_url(url);
    ASSERT_TRUE(o);
    o->rollups = {{"by_port", {FieldId::SrvPort}}};
    auto clash = ClickHouseBackend::open(std::move(*o));
    ASSERT_FALSE(clash);
    EXPECT_NE(clash.error().message.find("rollup view by_port"), std::string::npos);

    // Raw days dropped, rollups kept: questions on the kept days still come from rollups; on
    // the dropped ones both stores answer from what raw sessions are left.
    const std::int64_t cutoff = kStart + kDay;
    ASSERT_TRUE((*emb)->drop_before(cutoff));
    auto dropped = ch->drop_before(cutoff);
    ASSERT_TRUE(dropped) << dropped.error().message;
    EXPECT_GE(*dropped, 1u);
    EXPECT_GE(same(**emb, *ch, "raw day 1 dropped"), 3u) << url;

    // Each level's retention (raw 2 days, 1m 2 days, 1h 3 days, 1d forever).
    const std::array<std::int64_t, 4> keep = {2 * kDay, 2 * kDay, 3 * kDay, 0};
    ASSERT_TRUE((*emb)->close());
    so.keep_ms = keep;
    so.use_dir_config = false;
    so.rollups = views;
    emb = store::EmbeddedStore::open(so);
    ASSERT_TRUE(emb) << emb.error().message;
    auto o2 = parse_clickhouse_url(url);
    ASSERT_TRUE(o2);
    o2->keep_ms = keep;
    auto ch2 = ClickHouseBackend::open(std::move(*o2));
    ASSERT_TRUE(ch2) << ch2.error().message;
    ASSERT_TRUE((*emb)->apply_retention(now));
    auto applied = (*ch2)->apply_retention(now);
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_GE(*applied, 1u);
    EXPECT_GE(same(**emb, **ch2, "levels' retention applied"), 2u) << url;
  }
}

// `store copy` from a store whose raw retention dropped a day its rollups keep: the rollup rows
// of that day go into the cluster's rollup tables, so statistics over it agree.
TEST_F(ClickHousePushdown, CopyAfterRawRetentionCarriesTheRollupOnlyDay) {
  const std::vector<store::RollupView> views = {{"by_port", {FieldId::SrvPort, FieldId::Proto}},
                                                {"hosts", {FieldId::ClnAddr, FieldId::SrvAddr}}};
  TempDir dir;
  const std::filesystem::path data = dir.path() / "data";
  std::filesystem::create_directories(data);
  store::StoreConfig config;
  config.rollups = views;
  ASSERT_TRUE(store::save_store_config(data, config));
  store::StoreOptions so;
  so.dir = data;
  {
    auto s = store::EmbeddedStore::open(so);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE((*s)->append(testing::generated_sessions(9000, 23, kStart, 3 * kDay)));
    ASSERT_TRUE((*s)->close());
    s = store::EmbeddedStore::open(so);
    ASSERT_TRUE(s) << s.error().message;
    auto dropped = (*s)->drop_before(kStart + kDay);
    ASSERT_TRUE(dropped) << dropped.error().message;
    ASSERT_GE(*dropped, 1u);
    ASSERT_TRUE((*s)->close());
  }
  const std::string url = cluster_->url("rcopy2");
  const auto copy =
      flowscope::testing::run_flowscope({"store", "copy", "--from", data.string(), "--to", url});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_NE(copy.err.find("rollup rows"), std::string::npos) << copy.err;
  auto ch = open(url);
  ASSERT_TRUE(ch);
  auto emb = store::EmbeddedStore::open(so);
  ASSERT_TRUE(emb) << emb.error().message;
  struct Question {
    const char* grp;
    const char* count;
    std::int64_t begin, end, bucket;
    std::uint64_t top;
  };
  const std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  const std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  const std::vector<Question> questions = {
      {"srvport", "bytes", lo, hi, 0, 10},
      {"srvport,proto", "sessions", kStart, kStart + 3 * kDay, 0, 0},
      {"pair", "bytes", kStart, kStart + kDay, 0, 10},  // the dropped day alone
      {"proto", "packets", kStart, kStart + 2 * kDay, 3'600'000, 0},
      {"srvport", "sessions", kStart, kStart + kDay, 86'400'000, 0},
  };
  std::size_t from_rollups = 0;
  for (const Question& q : questions) {
    const std::string shown =
        fmt::format("{} {} [{}, {}) w={}", q.grp, q.count, q.begin, q.end, q.bucket);
    query::StatSpec ss;
    ss.where.begin_ms = q.begin;
    ss.where.end_ms = q.end;
    ss.group_by = *query::parse_group_spec(q.grp);
    ASSERT_TRUE(query::parse_count_spec(q.count, ss));
    ss.top = q.top;
    ss.bucket_ms = q.bucket;
    auto a = query::execute_stat(**emb, ss);
    auto b = query::execute_stat(*ch, ss);
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_TRUE(b) << b.error().message;
    from_rollups += a->stats.source.starts_with("rollup");
    ASSERT_EQ(a->rows.size(), b->rows.size()) << shown;
    for (std::size_t i = 0; i < a->rows.size(); ++i) {
      EXPECT_EQ(a->rows[i].value, b->rows[i].value) << shown << " row " << i;
      EXPECT_EQ(a->rows[i].sessions, b->rows[i].sessions) << shown << " row " << i;
    }
    EXPECT_GT(a->total.sessions, 0u) << shown;
    EXPECT_EQ(a->total.value, b->total.value) << shown;
    EXPECT_EQ(a->total.sessions, b->total.sessions) << shown;
    EXPECT_EQ(a->others.value, b->others.value) << shown;
    EXPECT_EQ(a->total_groups, b->total_groups) << shown;
    EXPECT_EQ(a->buckets, b->buckets) << shown;
    EXPECT_EQ(a->series, b->series) << shown;
  }
  // The dropped day came from the source's rollups (no raw session of it is left).
  EXPECT_GE(from_rollups, 3u);
}

}  // namespace
}  // namespace flowscope::clickhouse
