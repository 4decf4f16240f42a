// A statistic's top N pushed down to ClickHouse (issue 20, docs/scale-out.md "Reads"): ORDER BY
// the counted value, ties by the group keys as the embedded store breaks them, LIMIT N; the
// totals and "others" from a second aggregate. Against local clickhouse-server processes
// (skipped when it is not installed): the same rows in an embedded store and in one and two
// shards give the same top rows, keys, others and totals, with many ties and 100k groups.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "clickhouse/clickhouse_backend.h"
#include "clickhouse/clickhouse_cluster.h"
#include "clickhouse/cluster_suite.h"
#include "query/executor.h"
#include "query/executor_support.h"
#include "store/embedded_store.h"
#include "store/store_test_support.h"

namespace flowscope::clickhouse {
namespace {

using store::testing::TempDir;

constexpr std::int64_t kStart = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

class ClickHouseTopN : public testing::ClusterSuite<ClickHouseTopN> {};

// 100k sessions, each its own (client, server) pair, with few distinct byte counts (ties
// everywhere), absent keys, IPv4 and IPv6, negative times and texts of several lengths.
SessionBatch tied_sessions() {
  SessionBatch b;
  const char* apps[] = {"http", "dns", "a", "ssh-long-name", "zz", ""};
  const char* countries[] = {"us", "de", "be", "fr"};
  for (std::uint32_t i = 0; i < 100'000; ++i) {
    const std::size_t r = b.add_row();
    b.set<FieldId::StartTime>(r, kStart + static_cast<std::int64_t>(i) * 1000);
    if (i % 97 != 0) {
      b.set<FieldId::ClnAddr>(r, i % 5 == 0 ? IpAddress::from_u64(0x20010db800000000ULL, i % 1000)
                                            : IpAddress::v4(0x0a000000u + i % 1000));
    }
    b.set<FieldId::SrvAddr>(r, IpAddress::v4(0xac100000u + i / 1000));
    if (i % 13 != 0) b.set<FieldId::SrvPort>(r, static_cast<std::uint16_t>(i % 50));
    b.set<FieldId::Proto>(r, static_cast<std::uint8_t>(i % 3 == 0 ? 6 : i % 3 == 1 ? 17 : 1));
    if (i % 11 != 0) {
      b.set<FieldId::ClnCountry>(r, *CountryCode::parse(countries[i % 4]));
    }
    b.set<FieldId::EndTime>(r, (static_cast<std::int64_t>(i % 5) - 2) * 1000);
    b.set<FieldId::Application>(r, apps[i % 6]);
    b.set<FieldId::ClnBytes>(r, (i % 7) * 100);
    b.set<FieldId::SrvBytes>(r, (i % 3) * 10);
    b.set<FieldId::ClnPackets>(r, i % 4);
    b.set<FieldId::SrvPackets>(r, 1 + i % 2);
  }
  return b;
}

std::string key_text(const query::StatResult& r, std::size_t row) {
  std::string out;
  for (const query::GroupKey& k : r.group_by) {
    const Column& col = r.keys.column(query::key_column(k));
    if (!col.valid(row)) {
      out += "-|";
    } else if (col.info().type == FieldType::String) {
      out += fmt::format("'{}'|", col.strings().get(row));
    } else {
      const store::OrderKey key = query::order_key_of(col, row);
      out += fmt::format("{:x}.{:x}|", key.hi, key.lo);
    }
  }
  return out;
}

std::string values_text(const query::StatValues& v) {
  return fmt::format("{} {} {} {}", v.value, v.bytes, v.packets, v.sessions);
}

TEST_F(ClickHouseTopN, TopRowsTiesOthersAndTotalsAsTheEmbeddedStore) {
  TempDir dir;
  const SessionBatch rows = tied_sessions();
  store::StoreOptions so;
  so.dir = dir.path() / "data";
  auto emb = store::EmbeddedStore::open(so);
  ASSERT_TRUE(emb) << emb.error().message;
  ASSERT_TRUE((*emb)->append(rows));
  struct Question {
    const char* grp;
    const char* count;
    query::Side side;
    std::uint64_t top;
  };
  const std::vector<Question> questions = {
      {"pair", "bytes", query::Side::Both, 10},  // top 10 of 100k pairs
      {"pair", "sessions", query::Side::Both, 10},
      {"pair", "packets", query::Side::Send, 7},
      {"srv_port", "bytes", query::Side::Both, 5},
      {"srv_port,proto", "sessions", query::Side::Both, 8},
      {"cln_country", "packets", query::Side::Receive, 3},
      {"end_time", "bytes", query::Side::Both, 4},
      {"application", "sessions", query::Side::Both, 3},
      {"application,cln_country", "bytes", query::Side::Receive, 6},
      {"cln_addr,srv_port", "bytes", query::Side::Both, 10},
      {"proto", "bytes", query::Side::Both, 100},  // more rows asked than groups
  };
  for (const std::string& url : {cluster_->first_shard_url("top1"), cluster_->url("top2")}) {
    auto o = parse_clickhouse_url(url);
    ASSERT_TRUE(o) << o.error().message;
    auto ch = ClickHouseBackend::open(std::move(*o));
    ASSERT_TRUE(ch) << ch.error().message;
    ASSERT_TRUE((*ch)->append(rows));
    ASSERT_TRUE((*ch)->flush());
    for (const Question& q : questions) {
      const std::string shown = fmt::format("{} {} side {} top {} on {}", q.grp, q.count,
                                            static_cast<int>(q.side), q.top, url);
      query::StatSpec spec;
      auto groups = query::parse_group_spec(q.grp);
      ASSERT_TRUE(groups) << shown;
      spec.group_by = *groups;
      ASSERT_TRUE(query::parse_count_spec(q.count, spec)) << shown;
      spec.side = q.side;
      spec.top = q.top;
      auto a = query::execute_stat(**emb, spec);
      auto b = query::execute_stat(**ch, spec);
      ASSERT_TRUE(a) << shown << ": " << a.error().message;
      ASSERT_TRUE(b) << shown << ": " << b.error().message;
      // ClickHouse ranked and cut: only the top rows came back.
      EXPECT_NE(b->stats.source.find(fmt::format("top {} in SQL", q.top)), std::string::npos)
          << shown << ": " << b->stats.source;
      EXPECT_EQ(b->stats.scan.rows_returned, std::min<std::uint64_t>(q.top, a->total_groups))
          << shown;
      ASSERT_EQ(a->rows.size(), b->rows.size()) << shown;
      EXPECT_EQ(a->rows.size(), std::min<std::uint64_t>(q.top, a->total_groups)) << shown;
      for (std::size_t i = 0; i < a->rows.size(); ++i) {
        EXPECT_EQ(key_text(*a, i), key_text(*b, i)) << shown << " row " << i;
        EXPECT_EQ(values_text(a->rows[i]), values_text(b->rows[i])) << shown << " row " << i;
      }
      EXPECT_EQ(values_text(a->others), values_text(b->others)) << shown;
      EXPECT_EQ(a->other_groups, b->other_groups) << shown;
      EXPECT_EQ(values_text(a->total), values_text(b->total)) << shown;
      EXPECT_EQ(a->total_groups, b->total_groups) << shown;
      EXPECT_FALSE(b->saturated) << shown;
    }
    // The pairs are about 100k groups, and the 10th row's value ties more groups than the top
    // 10 hold: the keys decided which of them were shown.
    query::StatSpec pairs;
    pairs.group_by = *query::parse_group_spec("pair");
    pairs.top = 0;
    auto all = query::execute_stat(**emb, pairs);
    ASSERT_TRUE(all);
    EXPECT_GT(all->total_groups, 98'000u);
    ASSERT_GT(all->rows.size(), 10u);
    std::size_t tied = 0;
    for (const auto& row : all->rows) tied += row.value == all->rows[9].value;
    std::size_t tied_shown = 0;
    for (std::size_t i = 0; i < 10; ++i) tied_shown += all->rows[i].value == all->rows[9].value;
    EXPECT_GT(tied, tied_shown);
  }
}

}  // namespace
}  // namespace flowscope::clickhouse
