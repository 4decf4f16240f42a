// Growth of the field list in place (issue 20, docs/scale-out.md "Schema"): a cluster written by a
// flowscope with a shorter field list (the same list without its last fields, as a registry that
// grew) gets the new fields as columns when a writer opens it, and reads its old rows (new fields
// absent, presence bits in place) and new rows as the embedded store does; a reader refuses it
// until then and says so. Against local clickhouse-server processes (skipped when absent).
#include <algorithm>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "clickhouse/clickhouse_backend.h"
#include "clickhouse/clickhouse_cluster.h"
#include "clickhouse/cluster_suite.h"
#include "clickhouse/schema.h"
#include "clickhouse/shard_client.h"
#include "store/batch_codec.h"
#include "store/embedded_store.h"
#include "store/store_test_support.h"

namespace flowscope::clickhouse {
namespace {

using store::testing::compare_rows;
using store::testing::fill_every_field;
using store::testing::scan_all;
using store::testing::TempDir;

constexpr std::int64_t kStart = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kDay = 86'400'000;

class ClickHouseLayout : public testing::ClusterSuite<ClickHouseLayout> {};

// The stored session fields in presence-bit order (schema.h field_layout).
std::vector<FieldId> bit_order() {
  std::vector<std::pair<int, FieldId>> order;
  for (FieldId id : fields_of(RecordKind::Session, true)) {
    order.emplace_back(SessionBatch::column_index(id), id);
  }
  std::sort(order.begin(), order.end());
  std::vector<FieldId> out;
  for (const auto& p : order) out.push_back(p.second);
  return out;
}

// Row indices of `b` by session id (both stores list a scan's rows in their own order of
// partitions and arrival; the ids are unique here).
std::vector<std::size_t> by_id(const SessionBatch& b) {
  std::vector<std::size_t> order(b.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return b.get<FieldId::SessionId>(x) < b.get<FieldId::SessionId>(y);
  });
  return order;
}

TEST_F(ClickHouseLayout, AGrownFieldListAddsColumnsAndReadsOldRowsAsTheEmbeddedStore) {
  const std::string url = cluster_->url("grow2");
  const std::vector<FieldId> all = bit_order();
  ASSERT_GT(all.size(), 3u);
  const std::vector<FieldId> kept(all.begin(), all.end() - 2);  // the shorter list
  const FieldId added[2] = {all[all.size() - 2], all[all.size() - 1]};
  std::string short_layout;
  for (FieldId f : kept) {
    if (!short_layout.empty()) short_layout += ',';
    short_layout += field_info(f).name;
  }
  ASSERT_TRUE(field_layout().starts_with(short_layout + ","));

  // Old rows: every field but the two the shorter list lacks (one hour, so that both stores
  // list them in arrival order).
  SessionBatch full;
  for (std::uint64_t v = 0; v < 400; ++v) {
    fill_every_field(full, full.add_row(), v, kStart + static_cast<std::int64_t>(v) * 1000);
  }
  std::vector<std::uint32_t> rows(full.size());
  std::iota(rows.begin(), rows.end(), 0u);
  SessionBatch old_rows;
  store::append_rows(full, rows, old_rows, kept);
  ASSERT_FALSE(old_rows.column(added[0]).valid(0));

  TempDir dir;
  store::StoreOptions so;
  so.dir = dir.path() / "data";
  auto emb = store::EmbeddedStore::open(so);
  ASSERT_TRUE(emb) << emb.error().message;
  ASSERT_TRUE((*emb)->append(old_rows));
  auto o = parse_clickhouse_url(url);
  ASSERT_TRUE(o) << o.error().message;
  const ClickHouseOptions options = *o;
  {
    auto b = ClickHouseBackend::open(options);
    ASSERT_TRUE(b) << b.error().message;
    ASSERT_TRUE((*b)->append(old_rows));
    ASSERT_TRUE((*b)->flush());
  }
  // Make it what a flowscope with the shorter list wrote: the two columns gone, its list kept.
  for (const Endpoint& ep : options.shards) {
    ShardClient sql(ep);
    for (const char* table : {"flows_local", "flows"}) {
      for (FieldId f : added) {
        std::vector<std::string> cols = {value_column(f)};
        if (field_info(f).type == FieldType::Ip) {
          cols.push_back(fmt::format("`{}_v4`", field_info(f).name));
        }
        for (const std::string& c : cols) {
          auto r = sql.query(fmt::format("ALTER TABLE grow2.{} DROP COLUMN {}", table, c));
          ASSERT_TRUE(r) << r.error().message;
        }
      }
    }
    ASSERT_TRUE(sql.query("TRUNCATE TABLE grow2.flowscope_layout"));
    ASSERT_TRUE(
        sql.query(fmt::format("INSERT INTO grow2.flowscope_layout VALUES ('{}')", short_layout)));
  }

  // A reader does not migrate: it says what will.
  ClickHouseOptions reader = options;
  reader.create_schema = false;
  auto refused = ClickHouseBackend::open(reader);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("added as columns"), std::string::npos)
      << refused.error().message;

  // A writer grows it: the columns on every shard's tables, the list replaced.
  auto grown = ClickHouseBackend::open(options);
  ASSERT_TRUE(grown) << grown.error().message;
  auto& ch = **grown;
  for (const Endpoint& ep : options.shards) {
    ShardClient sql(ep);
    auto kept_now = sql.query("SELECT fields FROM grow2.flowscope_layout FORMAT TabSeparated");
    ASSERT_TRUE(kept_now);
    EXPECT_EQ(*kept_now, field_layout() + "\n");
    auto cols = sql.query(fmt::format(
        "SELECT count() FROM system.columns WHERE database = 'grow2' AND table IN "
        "('flows_local', 'flows') AND name = '{}' FORMAT TabSeparated",
        field_info(added[1]).type == FieldType::Ip ? fmt::format("{}_v6", field_info(added[1]).name)
                                                   : std::string(field_info(added[1]).name)));
    ASSERT_TRUE(cols);
    EXPECT_EQ(*cols, "2\n");
  }
  // The old rows read as the embedded store's: the new fields absent, every bit in place.
  SessionBatch a = scan_all(**emb);
  SessionBatch b = scan_all(ch);
  ASSERT_EQ(a.size(), old_rows.size());
  ASSERT_EQ(b.size(), a.size());
  {
    const auto ia = by_id(a);
    const auto ib = by_id(b);
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(compare_rows(a, ia[i], b, ib[i]), "") << i;
    }
  }

  // New rows with every field, beside the old ones.
  SessionBatch fresh;
  for (std::uint64_t v = 400; v < 600; ++v) {
    fill_every_field(fresh, fresh.add_row(), v,
                     kStart + 2 * kDay + static_cast<std::int64_t>(v) * 1000);
  }
  ASSERT_TRUE(fresh.column(added[1]).valid(0));
  ASSERT_TRUE((*emb)->append(fresh));
  ASSERT_TRUE(ch.append(fresh));
  ASSERT_TRUE(ch.flush());
  a = scan_all(**emb);
  b = scan_all(ch);
  ASSERT_EQ(a.size(), old_rows.size() + fresh.size());
  ASSERT_EQ(b.size(), a.size());
  std::size_t with_new = 0;
  const auto ia = by_id(a);
  const auto ib = by_id(b);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(compare_rows(a, ia[i], b, ib[i]), "") << i;
    with_new += b.column(added[1]).valid(i);
  }
  EXPECT_EQ(with_new, fresh.size());

  // Opening again changes nothing.
  auto again = ClickHouseBackend::open(options);
  ASSERT_TRUE(again) << again.error().message;
}

}  // namespace
}  // namespace flowscope::clickhouse
