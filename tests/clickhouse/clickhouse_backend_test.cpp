// The ClickHouse backend (issue 20): schema from the registry, spill queue files, and against
// local clickhouse-server processes (skipped when it is not installed): every field round trips,
// the same commands give the same answers from an embedded store and from one and two shards,
// retention by partition, and a shard stopped during ingest loses and duplicates nothing.
#include "clickhouse/clickhouse_backend.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <memory>
#include <numeric>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include "clickhouse/clickhouse_cluster.h"
#include "clickhouse/cluster_suite.h"
#include "clickhouse/schema.h"
#include "clickhouse/shard_client.h"
#include "clickhouse/spill_queue.h"
#include "query/executor.h"
#include "query/filter_parser.h"
#include "store/batch_codec.h"
#include "store/embedded_store.h"
#include "store/store_test_support.h"

#include "test_support.h"

namespace flowscope::clickhouse {
namespace {

using store::testing::compare_rows;
using store::testing::fill_every_field;
using store::testing::scan_all;
using store::testing::TempDir;

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kStart = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

TEST(ClickHouseSchema, EveryStoredSessionFieldHasATypedColumn) {
  const std::string cols = column_definitions();
  for (FieldId id : fields_of(RecordKind::Session, true)) {
    const FieldInfo& f = field_info(id);
    const std::string name = f.type == FieldType::Ip
                                 ? fmt::format("`{}_v6` FixedString(16)", f.name)
                                 : fmt::format("`{}` {}", f.name, column_type(f.type));
    EXPECT_NE(cols.find(name), std::string::npos) << f.name;
    if (f.type == FieldType::Ip) {
      EXPECT_NE(cols.find(fmt::format("`{}_v4` UInt32", f.name)), std::string::npos) << f.name;
    }
  }
  EXPECT_NE(create_local_table({}).find("PARTITION BY"), std::string::npos);
}

TEST(ClickHouseSchema, ServerErrorsAndUrls) {
  const auto e = parse_server_error(
      "Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist., e.what() = "
      "DB::Exception\n");
  EXPECT_EQ(e.code, 60);
  EXPECT_EQ(e.message, "Table default.x doesn't exist.");
  EXPECT_EQ(parse_server_error("Ok.").code, -1);

  auto o = parse_clickhouse_url("clickhouse://u:p@h1:9123,h2/flows?cluster=c2&batch_rows=5");
  ASSERT_TRUE(o) << o.error().message;
  ASSERT_EQ(o->shards.size(), 2u);
  EXPECT_EQ(o->shards[0].port, 9123);
  EXPECT_EQ(o->shards[1].port, 8123);
  EXPECT_EQ(o->shards[1].password, "p");
  EXPECT_EQ(o->tables.database, "flows");
  EXPECT_EQ(o->tables.cluster, "c2");
  EXPECT_EQ(o->batch_rows, 5u);
  auto bad = parse_clickhouse_url("clickhouse://h1:99999/x");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("port"), std::string::npos);
  EXPECT_FALSE(parse_clickhouse_url("clickhouse://h1/x?bogus=1"));
}

TEST(SpillQueue, RoundTripOrderBoundAndReopen) {
  TempDir dir;
  auto q = SpillQueue::open(dir.path() / "s0", 1000);
  ASSERT_TRUE(q);
  SpillBlock a{0, 10, 19, 10, 3, std::string(100, 'a')};
  SpillBlock b{0, 20, 29, 5, 4, std::string(100, 'b')};
  ASSERT_TRUE(q->push(b));
  ASSERT_TRUE(q->push(a));
  auto full = q->push(SpillBlock{0, 30, 39, 10, 4, std::string(900, 'c')});
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("spill_max_bytes"), std::string::npos);
  EXPECT_EQ(q->blocks(), 2u);
  EXPECT_EQ(q->end_seq(), 30u);
  // Reopened, blocks come back by first sequence.
  auto r = SpillQueue::open(dir.path() / "s0", 1000);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->blocks(), 2u);
  auto first = r->front();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->first_seq, 10u);
  EXPECT_EQ(first->data, a.data);
  ASSERT_TRUE(r->pop());
  EXPECT_EQ(r->front()->first_seq, 20u);
  ASSERT_TRUE(r->pop());
  EXPECT_TRUE(r->empty());
}

TEST(SpillQueue, DamagedBlocksAreRefused) {
  const std::string good = serialize_spill_block(SpillBlock{1, 5, 9, 5, 2, "payload"});
  ASSERT_TRUE(parse_spill_block(good));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(parse_spill_block(std::string_view(good).substr(0, cut))) << cut;
  }
  std::string flipped = good;
  flipped.back() ^= 1;
  EXPECT_EQ(parse_spill_block(flipped).error().code, ErrorCode::Corruption);
}

// ---- against clickhouse-server --------------------------------------------------------------

class ClickHouseServerTest : public testing::ClusterSuite<ClickHouseServerTest> {
 protected:
  static std::unique_ptr<ClickHouseBackend> open(const std::string& url,
                                                 const std::filesystem::path& spill = {}) {
    auto o = parse_clickhouse_url(url);
    EXPECT_TRUE(o) << o.error().message;
    o->spill_dir = spill;
    o->retry_interval = std::chrono::milliseconds(0);
    o->shards[0].connect_timeout = std::chrono::milliseconds(500);
    if (o->shards.size() > 1) o->shards[1].connect_timeout = std::chrono::milliseconds(500);
    auto b = ClickHouseBackend::open(std::move(*o));
    EXPECT_TRUE(b) << b.error().message;
    return b ? std::move(*b) : nullptr;
  }
};

TEST_F(ClickHouseServerTest, EveryFieldRoundTripsInArrivalOrder) {
  for (const std::string& url : {cluster_->first_shard_url("rt1"), cluster_->url("rt2")}) {
    auto b = open(url);
    ASSERT_TRUE(b);
    SessionBatch in;
    for (std::uint64_t v = 0; v < 300; ++v) {
      fill_every_field(in, in.add_row(), v, kStart + static_cast<std::int64_t>(v % 7) * 1000);
    }
    ASSERT_TRUE(b->append(in));
    ASSERT_TRUE(b->flush());
    EXPECT_EQ(b->durable_sequence(), 1u);
    const SessionBatch out = scan_all(*b);
    ASSERT_EQ(out.size(), in.size()) << url;
    // Scan order: hour of start_time, then arrival; compare each input row with its match.
    std::vector<std::uint32_t> order(in.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
      auto hour = [&](std::uint32_t r) {
        return std::max<std::int64_t>(in.get<FieldId::StartTime>(r), 0) / 3'600'000;
      };
      return hour(x) < hour(y);
    });
    for (std::size_t i = 0; i < order.size(); ++i) {
      ASSERT_EQ(compare_rows(in, order[i], out, i), "") << url << " row " << i;
    }
  }
}

// The presence bits of a row follow the registry's field order, so a database written with
// another field list is refused (read and write), naming the fix, and nothing in it changes.
TEST_F(ClickHouseServerTest, ADatabaseWrittenWithAnotherFieldListIsRefused) {
  const std::string url = cluster_->first_shard_url("layout1");
  ASSERT_TRUE(open(url));  // creates the tables and records this binary's field list
  auto o = parse_clickhouse_url(url);
  ASSERT_TRUE(o);
  ShardClient sql(o->shards[0]);
  auto kept = sql.query("SELECT fields FROM layout1.flowscope_layout FORMAT TabSeparated");
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(*kept, field_layout() + "\n");
  ASSERT_TRUE(sql.query("DROP TABLE layout1.flowscope_layout"));
  ASSERT_TRUE(sql.query(create_layout_table(o->tables)));
  ASSERT_TRUE(sql.query("INSERT INTO layout1.flowscope_layout VALUES ('session_id,start_time')"));
  for (const bool create : {true, false}) {
    auto again = parse_clickhouse_url(url);
    ASSERT_TRUE(again);
    again->create_schema = create;
    auto b = ClickHouseBackend::open(std::move(*again));
    ASSERT_FALSE(b) << "create_schema " << create;
    EXPECT_NE(b.error().message.find("another field list (2 fields"), std::string::npos)
        << b.error().message;
    EXPECT_NE(b.error().message.find("new database"), std::string::npos) << b.error().message;
  }
  kept = sql.query("SELECT fields FROM layout1.flowscope_layout FORMAT TabSeparated");
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, "session_id,start_time\n");
}

// The same data in an embedded store and, through `flowscope store copy`, in ClickHouse; then
// the same commands against both.
class ClickHouseDifferential : public ClickHouseServerTest {
 protected:
  static std::vector<std::vector<std::string>> commands() {
    const std::vector<std::string> window = {"-t", "5d", "--now", "2026-01-05T00:00:00Z"};
    std::vector<std::vector<std::string>> cmds;
    auto add = [&](std::vector<std::string> args) {
      args.insert(args.begin() + 1, window.begin(), window.end());
      cmds.push_back(std::move(args));
    };
    // Every FlowTraq filter keyword at least once, with a value of its type.
    for (FieldId id : fields_of(RecordKind::Session)) {
      const FieldInfo& f = field_info(id);
      if (f.filter_name.empty()) continue;
      std::string cond;
      switch (f.type) {
        case FieldType::Ip: cond = fmt::format("{} == 10.0.0.0/8", f.filter_name); break;
        case FieldType::Country: cond = fmt::format("{} != us", f.filter_name); break;
        case FieldType::String: cond = fmt::format("{} != http", f.filter_name); break;
        case FieldType::TcpFlags: cond = fmt::format("{} == FACK", f.filter_name); break;
        case FieldType::Proto: cond = fmt::format("{} == tcp", f.filter_name); break;
        case FieldType::Time:
          cond = fmt::format("{} >= 2026-01-02T00:00:00Z", f.filter_name);
          break;
        case FieldType::Duration: cond = fmt::format("{} > 1s", f.filter_name); break;
        default: cond = fmt::format("{} > 2", f.filter_name); break;
      }
      add({"query", "-o", "csv", "-c", "300", cond});
    }
    add({"query", "-o", "csv", "-c", "500"});
    add({"query", "-o", "csv", "-O", "total_bytes:desc", "-c", "50", "PROTO == udp"});
    add({"query", "-o", "csv", "-O", "start_time", "ADDR == 2001:db8::/32"});
    add({"query", "-o", "csv", "SRVPORT == 443 && !(CLNIP == 10.0.0.0/16)"});
    add({"query", "-o", "csv", "BYTES > 50000 || SRVPORT == 22"});
    // Whole filters in SQL (ORs, negations, Either/Sum/Diff fields, CIDR blocks, IP group ids,
    // every comparator, string case), with -n as LIMIT and -s as ORDER BY; ties (many equal
    // ports, protocols, countries) come in scan order as the embedded store's stable sort.
    add({"query", "-o", "csv", "-c", "20", "SRVPORT == 53 || PROTO == icmp"});
    add({"query", "-o", "csv", "-c", "100", "!(PORT == 443)"});
    add({"query", "-o", "csv", "-c", "60", "ADDR != 10.0.0.0/8 && !(SRVIP == 2001:db8::/32)"});
    add({"query", "-o", "csv", "-c", "40", "SRVGRP == 3 || CLNGRP != 1 || CLNGRP < 2"});
    add({"query", "-o", "csv", "-c", "40", "TOTBYTS >= 5000 && !(TOTPKTS <= 10) || TTIME < 0"});
    add({"query", "-o", "csv", "-c", "40", "APP == HTTP || SERVICE != DNS"});
    add({"query", "-o", "csv", "-c", "40", "CLNCC != us && (FLAGS != FACK || SRVCC == de)"});
    add({"query", "-o", "csv", "-c", "30", "TTIME > 1s || STARTTIME < 2026-01-02T00:00:00Z"});
    add({"query", "-o", "csv", "-c", "25", "BYTES >= 1000 && BYTES <= 20000 && !(VLAN == 0)"});
    add({"query", "-o", "csv", "-O", "srv_port:desc", "-c", "7"});
    add({"query", "-o", "csv", "-O", "proto", "-c", "13", "SRVPORT != 443 || PROTO == udp"});
    add({"query", "-o", "csv", "-O", "cln_country:desc", "-c", "9", "APP != dns"});
    add({"query", "-o", "csv", "-O", "total_bytes", "-c", "5", "!(CLNIP == 10.0.0.0/16)"});
    add({"query", "-o", "csv", "-O", "duration:desc", "-O", "srv_addr", "-c", "11"});
    add({"query", "-o", "csv", "-O", "application", "-c", "12", "PORT > 1000 || PORT < 30"});
    add({"stat", "-o", "csv", "--grp", "srvport", "-n", "10", "SRVPORT == 443 || PROTO == udp"});
    add({"stat", "-o", "csv", "--grp", "host", "-n", "5", "!(CLNCC == us)", "--cnt", "sessions"});
    add({"stat", "-o", "csv", "--grp", "proto", "--bucket", "6h", "ADDR != 10.0.0.0/8"});
    for (const char* grp : {"host", "pair", "srvport", "port", "country", "proto", "as", "exporter",
                            "vlan", "iface", "service", "app", "host/24/64", "cln_addr,srv_port"}) {
      add({"stat", "-o", "csv", "--grp", grp, "-n", "15"});
    }
    add({"stat", "-o", "csv", "--grp", "host", "--cnt", "sessions", "--snd"});
    add({"stat", "-o", "csv", "--grp", "host", "--cnt", "packets", "--rcv"});
    add({"stat", "-o", "csv", "--grp", "host", "--cnt", "uports"});
    add({"stat", "-o", "csv", "--grp", "srvport", "--cnt", "uhosts"});
    add({"stat", "-o", "csv", "--grp", "country", "--cnt", "unique srv_addr"});
    add({"stat", "-o", "csv", "--grp", "srvport", "--bucket", "1h", "-n", "5"});
    add({"stat", "-o", "csv", "--bucket", "1d", "--cnt", "sessions"});
    add({"stat", "-o", "csv", "--grp", "host", "-n", "10", "PROTO == tcp && SRVPORT < 1024"});
    add({"stat", "-o", "csv", "--grp", "service", "--bucket", "6h", "CLNIP == 10.0.0.0/8"});
    add({"stat", "-o", "csv", "--grp", "host", "--snd", "APP != dns"});
    return cmds;
  }

  void check_same(const std::string& dir, const std::string& url) {
    std::size_t nonempty = 0;
    for (auto args : commands()) {
      auto ch_args = args;
      args.insert(args.begin() + 1, {"-d", dir});
      ch_args.insert(ch_args.begin() + 1, {"-d", url});
      const auto a = flowscope::testing::run_flowscope(args);
      const auto b = flowscope::testing::run_flowscope(ch_args);
      const std::string shown = fmt::format("{}", fmt::join(args, " "));
      EXPECT_EQ(a.exit_code, 0) << shown << "\n" << a.err;
      EXPECT_EQ(b.exit_code, a.exit_code) << shown << "\n" << b.err;
      EXPECT_EQ(b.out, a.out) << shown << " against " << url;
      if (a.out.size() > 200) ++nonempty;
    }
    EXPECT_GE(commands().size(), 30u);
    EXPECT_GE(nonempty, 30u);  // the answers have rows, not only headers
  }

  static void make_store(const std::filesystem::path& dir) {
    store::StoreOptions so;
    so.dir = dir;
    auto s = store::EmbeddedStore::open(so);
    ASSERT_TRUE(s) << s.error().message;
    SessionBatch gen = testing::generated_sessions(20000, 7, kStart, 3 * kDay);
    ASSERT_GT(gen.size(), 15000u);
    ASSERT_TRUE((*s)->append(gen));
    SessionBatch odd;
    for (std::uint64_t v = 2; v < 400; ++v) {
      fill_every_field(odd, odd.add_row(), v, kStart + static_cast<std::int64_t>(v) * 600'000);
    }
    ASSERT_TRUE((*s)->append(odd));
    ASSERT_TRUE((*s)->close());
  }
};

TEST_F(ClickHouseDifferential, SameCommandsSameAnswersOneAndTwoShards) {
  TempDir dir;
  make_store(dir.path() / "data");
  const std::string data = (dir.path() / "data").string();
  for (const std::string& url : {cluster_->first_shard_url("diff1"), cluster_->url("diff2")}) {
    const auto copy =
        flowscope::testing::run_flowscope({"store", "copy", "--from", data, "--to", url});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    EXPECT_NE(copy.err.find("copied"), std::string::npos) << copy.err;
    // Copying into a database that has data is refused.
    const auto again =
        flowscope::testing::run_flowscope({"store", "copy", "--from", data, "--to", url});
    EXPECT_NE(again.exit_code, 0);
    EXPECT_NE(again.err.find("already holds"), std::string::npos) << again.err;
    check_same(data, url);
  }
}

TEST_F(ClickHouseDifferential, RetentionDropsTheSameDays) {
  TempDir dir;
  store::StoreOptions so;
  so.dir = dir.path() / "data";
  auto emb = store::EmbeddedStore::open(so);
  ASSERT_TRUE(emb);
  auto ch = open(cluster_->url("ret2"));
  ASSERT_TRUE(ch);
  const SessionBatch gen = testing::generated_sessions(6000, 11, kStart, 3 * kDay);
  ASSERT_TRUE((*emb)->append(gen));
  ASSERT_TRUE(ch->append(gen));
  ASSERT_TRUE((*emb)->flush());
  ASSERT_TRUE(ch->flush());
  const std::int64_t cutoff = kStart + kDay + kDay;  // drops the first two days
  ASSERT_TRUE((*emb)->drop_before(cutoff));
  auto dropped = ch->drop_before(cutoff);
  ASSERT_TRUE(dropped) << dropped.error().message;
  EXPECT_GE(*dropped, 2u);
  const SessionBatch a = scan_all(**emb);
  const SessionBatch b = scan_all(*ch);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 0u);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(compare_rows(a, i, b, i), "") << i;
  for (std::size_t i = 0; i < b.size(); ++i) {
    ASSERT_GE(b.get<FieldId::StartTime>(i), cutoff);
  }
}

// `flowscope store retention -d clickhouse://...`: the same command and --json output as for the
// embedded store, day partitions dropped on every shard; without --keep a clear error and
// nothing dropped.
TEST_F(ClickHouseDifferential, StoreRetentionCommandOnACluster) {
  TempDir dir;
  store::StoreOptions so;
  so.dir = dir.path() / "data";
  const std::string url = cluster_->url("ret3");
  {
    auto emb = store::EmbeddedStore::open(so);
    ASSERT_TRUE(emb);
    auto ch = open(url);
    ASSERT_TRUE(ch);
    const SessionBatch gen = testing::generated_sessions(6000, 13, kStart, 3 * kDay);
    ASSERT_TRUE((*emb)->append(gen));
    ASSERT_TRUE(ch->append(gen));
    ASSERT_TRUE((*emb)->close());
    ASSERT_TRUE(ch->flush());
  }
  const std::string data = so.dir.string();
  auto ch = open(url);
  ASSERT_TRUE(ch);
  auto before = ch->count_rows();
  ASSERT_TRUE(before);
  // No --keep: a cluster keeps no retention settings.
  const auto bare = flowscope::testing::run_flowscope({"store", "retention", "-d", url});
  EXPECT_NE(bare.exit_code, 0);
  EXPECT_NE(bare.err.find("--keep"), std::string::npos) << bare.err;
  const auto bad_level = flowscope::testing::run_flowscope(
      {"store", "retention", "-d", url, "--keep", "1d", "--level", "2m"});
  EXPECT_NE(bad_level.exit_code, 0);
  EXPECT_NE(bad_level.err.find("--level"), std::string::npos) << bad_level.err;
  EXPECT_EQ(*ch->count_rows(), *before);

  // Keep one day before 2026-01-04: the first two days go from both.
  const std::vector<std::string> args = {"--keep", "1d", "--now", "2026-01-04T00:00:00Z", "--json"};
  auto run = [&](const std::string& target) {
    std::vector<std::string> cmd = {"store", "retention", "-d", target};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return flowscope::testing::run_flowscope(cmd);
  };
  const auto a = run(data);
  const auto b = run(url);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto ja = nlohmann::json::parse(a.out);
  const auto jb = nlohmann::json::parse(b.out);
  for (const char* key : {"level", "keep", "cutoff"}) EXPECT_EQ(ja[key], jb[key]) << key;
  EXPECT_EQ(jb["cutoff"], "2026-01-03T00:00:00Z");
  // Two days (a day counts once, however many shards held it).
  EXPECT_EQ(jb["dropped_partitions"].get<std::size_t>(), 2u) << b.out;
  EXPECT_GE(ja["dropped_partitions"].get<std::size_t>(), 2u) << a.out;
  auto emb = store::EmbeddedStore::open(so);
  ASSERT_TRUE(emb);
  const SessionBatch ra = scan_all(**emb);
  const SessionBatch rb = scan_all(*ch);
  ASSERT_EQ(ra.size(), rb.size());
  ASSERT_GT(rb.size(), 0u);
  EXPECT_LT(rb.size(), *before);
  for (std::size_t i = 0; i < ra.size(); ++i) ASSERT_EQ(compare_rows(ra, i, rb, i), "") << i;
  // Again: nothing left to drop.
  const auto again = run(url);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["dropped_partitions"].get<std::size_t>(), 0u);
}

// With a user's data permissions attached as the server does (Selection::restriction, a parsed
// tree ANDed to the filter), query and stat give the same rows through both backends.
TEST_F(ClickHouseDifferential, SameAnswersWithPermissions) {
  TempDir dir;
  store::StoreOptions so;
  so.dir = dir.path() / "data";
  auto emb = store::EmbeddedStore::open(so);
  ASSERT_TRUE(emb);
  auto ch = open(cluster_->url("perm2"));
  ASSERT_TRUE(ch);
  const SessionBatch gen = testing::generated_sessions(8000, 13, kStart, kDay);
  ASSERT_TRUE((*emb)->append(gen));
  ASSERT_TRUE(ch->append(gen));
  ASSERT_TRUE(ch->flush());
  auto restriction = query::parse_filter("CLNIP == 10.0.0.0/9 || SRVPORT == 53");
  ASSERT_TRUE(restriction) << restriction.error().message;
  const auto tree = std::make_shared<const query::FilterExpr>(std::move(*restriction));
  for (const char* filter : {"", "PROTO == tcp", "BYTES > 10000", "SRVIP == 198.18.0.0/16"}) {
    query::QuerySpec qs;
    qs.where.filter = filter;
    qs.where.restriction = tree;
    auto rows = [&](const store::Backend& b) {
      SessionBatch all;
      auto r = query::execute_query(b, qs, [&](const SessionBatch& out) {
        store::append_all(out, all);
        return true;
      });
      EXPECT_TRUE(r) << r.error().message;
      return all;
    };
    const SessionBatch a = rows(**emb);
    const SessionBatch b = rows(*ch);
    ASSERT_EQ(a.size(), b.size()) << filter;
    EXPECT_LT(a.size(), gen.size()) << "the restriction leaves rows out";
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(compare_rows(a, i, b, i), "") << filter;
    for (const char* grp : {"host", "srvport", "service"}) {
      query::StatSpec ss;
      ss.where = qs.where;
      ss.group_by = *query::parse_group_spec(grp);
      ss.top = 0;
      auto sa = query::execute_stat(**emb, ss);
      auto sb = query::execute_stat(*ch, ss);
      ASSERT_TRUE(sa && sb);
      ASSERT_EQ(sa->rows.size(), sb->rows.size()) << filter << " " << grp;
      for (std::size_t i = 0; i < sa->rows.size(); ++i) {
        EXPECT_EQ(sa->rows[i].value, sb->rows[i].value) << filter << " " << grp << " " << i;
        EXPECT_EQ(sa->rows[i].sessions, sb->rows[i].sessions) << filter << " " << grp;
      }
      EXPECT_EQ(sa->total.value, sb->total.value);
      EXPECT_EQ(sa->total_groups, sb->total_groups);
    }
  }
}

// A shard stopped during ingest: its blocks spill to disk and go in when it is back; the
// cluster then holds every row exactly once.
TEST_F(ClickHouseServerTest, ShardStoppedDuringIngestLosesAndDuplicatesNothing) {
  TempDir dir;
  auto b = open(cluster_->url("fail2", "?batch_rows=1000"), dir.path() / "spill");
  ASSERT_TRUE(b);
  const SessionBatch gen = testing::generated_sessions(12000, 5, kStart, 2 * kDay);
  const std::size_t n = gen.size();
  auto slice = [&](std::size_t from, std::size_t to) {
    SessionBatch part;
    std::vector<std::uint32_t> rows(to - from);
    std::iota(rows.begin(), rows.end(), static_cast<std::uint32_t>(from));
    store::append_rows(gen, rows, part, {});
    return part;
  };
  ASSERT_TRUE(b->append(slice(0, n / 3)));
  ASSERT_TRUE(b->flush());
  ASSERT_TRUE(cluster_->stop_shard(1));
  ASSERT_TRUE(b->append(slice(n / 3, 2 * n / 3)));
  ASSERT_TRUE(b->flush());  // shard 1's blocks spill; the call still succeeds
  auto st = b->stats();
  EXPECT_GT(st.blocks_spilled, 0u);
  EXPECT_GT(st.rows_spilled_now, 0u);
  EXPECT_EQ(b->durable_sequence(), 2u);  // acknowledged: in ClickHouse or in a spill file
  // More rows while it is away queue behind the spilled ones.
  ASSERT_TRUE(b->append(slice(2 * n / 3, n)));
  ASSERT_TRUE(b->flush());
  ASSERT_TRUE(cluster_->restart_shard(1));
  auto replayed = b->replay();
  ASSERT_TRUE(replayed) << replayed.error().message;
  EXPECT_GT(*replayed, 0u);
  EXPECT_EQ(b->stats().rows_spilled_now, 0u);
  auto total = b->count_rows();
  ASSERT_TRUE(total) << total.error().message;
  EXPECT_EQ(*total, n);
  // No _seq twice, none missing.
  const SessionBatch all = scan_all(*b);
  ASSERT_EQ(all.size(), n);

  // An insert whose answer was lost: the block is in the shard and also in the queue. Replay
  // finds its rows there and does not insert them again.
  SpillBlock again;
  {
    SessionBatch one = slice(0, 50);
    std::vector<std::uint32_t> rows;
    for (std::uint32_t r = 0; r < one.size(); ++r) {
      if (b->shard_of(one, r) == 0 &&
          one.get<FieldId::StartTime>(r) / kDay == one.get<FieldId::StartTime>(0) / kDay) {
        rows.push_back(r);
      }
    }
    ASSERT_FALSE(rows.empty());
    // The same _seq the first append gave these rows (base 0): seq = row index.
    encode_rows(one, rows, 0, again.data);
    again = SpillBlock{0,
                       rows.front(),
                       rows.back(),
                       rows.size(),
                       std::max<std::int64_t>(one.get<FieldId::StartTime>(0), 0) / kDay,
                       std::move(again.data)};
  }
  b.reset();
  {
    auto q = SpillQueue::open(dir.path() / "spill" / "shard-0", 1 << 30);
    ASSERT_TRUE(q);
    ASSERT_TRUE(q->push(again));
  }
  b = open(cluster_->url("fail2"), dir.path() / "spill");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->replay());
  EXPECT_EQ(b->stats().blocks_already_present, 1u);
  EXPECT_EQ(*b->count_rows(), n);
}

// `flowscope serve` with [store] backend = "clickhouse": flows sent with `flowscope gen` end up
// in the cluster by SIGTERM; a restart (which replays the flow log after the last checkpoint)
// adds nothing twice.
TEST_F(ClickHouseServerTest, ServeStoresIntoClickHouse) {
  TempDir dir;
  const auto cfg = dir.path() / "serve.toml";
  {
    std::ofstream out(cfg);
    out << "[ingest]\nlisten = [\"127.0.0.1\"]\nnetflow_port = 0\nipfix_port = 0\n"
           "sflow_port = 0\nworkers = 1\n[stitch]\nwindow = \"60s\"\n[store]\ndir = \""
        << (dir.path() / "data").string() << "\"\nbackend = \"clickhouse\"\nclickhouse = \""
        << cluster_->url("serve2") << "\"\ncommit_interval = \"200ms\"\n[query]\nport = 0\n"
        << "[http]\nport = 0\n";
  }
  const auto ready = dir.path() / "ready.json";
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  auto wait_for = [](auto done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  };
  auto spawn = [&] {
    std::filesystem::remove(ready);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string err = (dir.path() / "serve.err").string();
      const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 2);
      ::execl(FLOWSCOPE_BINARY, FLOWSCOPE_BINARY, "serve", "-C", cfg.c_str(), "--ready-file",
              ready.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  };
  auto stop = [&](pid_t pid) {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  pid_t pid = spawn();
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(ready) && !slurp(ready).empty(); }))
      << slurp(dir.path() / "serve.err");
  const std::string r = slurp(ready);
  const auto at = r.find("\"netflow_port\"");
  ASSERT_NE(at, std::string::npos) << r;
  const int port = std::atoi(r.c_str() + r.find(':', at) + 1);
  auto gen = flowscope::testing::run_flowscope({"gen", "flows", "--to",
                                                "127.0.0.1:" + std::to_string(port), "--count",
                                                "2000", "--rate", "0", "--seed", "1", "-q"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto b = open(cluster_->url("serve2"));
  ASSERT_TRUE(b);
  // Every flow stitched before SIGTERM (which closes the open sessions and stores them).
  const auto hat = r.find("\"http_port\"");
  ASSERT_NE(hat, std::string::npos) << r;
  const int http_port = std::atoi(r.c_str() + r.find(':', hat) + 1);
  EXPECT_TRUE(wait_for([&] {
    return flowscope::testing::run_shell(
               fmt::format("curl -s http://127.0.0.1:{}/metrics", http_port))
               .find("flowscope_stitch_flows_total 2000") != std::string::npos;
  }));
  // The backend's metrics, per shard, in a text promtool accepts.
  const std::string metrics =
      flowscope::testing::run_shell(fmt::format("curl -s http://127.0.0.1:{}/metrics", http_port));
  for (const char* want :
       {"flowscope_clickhouse_rows_inserted_total{shard=\"0\"}",
        "flowscope_clickhouse_rows_inserted_total{shard=\"1\"}",
        "flowscope_clickhouse_insert_errors_total{shard=\"1\"} 0",
        "flowscope_clickhouse_blocks_spilled_total 0", "flowscope_clickhouse_spilled_blocks 0",
        "flowscope_clickhouse_blocks_replayed_total", "flowscope_clickhouse_pending_rows"}) {
    EXPECT_NE(metrics.find(want), std::string::npos) << want << "\n" << metrics;
  }
  if (std::filesystem::exists("/usr/bin/promtool")) {
    const auto file = dir.path() / "metrics.txt";
    std::ofstream(file) << metrics;
    const std::string check = flowscope::testing::run_shell(
        fmt::format("promtool check metrics < {} 2>&1; echo rc=$?", file.string()));
    EXPECT_NE(check.find("rc=0"), std::string::npos) << check;
  }
  EXPECT_EQ(stop(pid), 0) << slurp(dir.path() / "serve.err");
  const std::uint64_t stored = b->count_rows().value_or(0);
  EXPECT_GE(stored, 900u);  // 2000 one-way flows: about 1000 two-way sessions
  // The same commands against it.
  const auto stat = flowscope::testing::run_flowscope({"stat", "-d", cluster_->url("serve2"), "-t",
                                                       "30d", "--now", "2026-01-15T00:00:00Z",
                                                       "--grp", "srvport", "-o", "csv"});
  EXPECT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_NE(stat.out.find("total"), std::string::npos) << stat.out;
  // Restart: nothing stored twice.
  pid = spawn();
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(ready) && !slurp(ready).empty(); }))
      << slurp(dir.path() / "serve.err");
  EXPECT_EQ(stop(pid), 0) << slurp(dir.path() / "serve.err");
  EXPECT_EQ(b->count_rows().value_or(0), stored);

  // Retention from the data directory's configuration (store.json), as for the embedded store:
  // serve drops the cluster's day partitions older than it (gen's flows are from January 2026).
  const auto config = flowscope::testing::run_flowscope(
      {"store", "config", "-d", (dir.path() / "data").string(), "--keep", "raw=30d"});
  ASSERT_EQ(config.exit_code, 0) << config.err;
  pid = spawn();
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(ready) && !slurp(ready).empty(); }))
      << slurp(dir.path() / "serve.err");
  EXPECT_TRUE(wait_for([&] { return b->count_rows().value_or(1) == 0; }));
  const std::string r2 = slurp(ready);
  const int http2 = std::atoi(r2.c_str() + r2.find(':', r2.find("\"http_port\"")) + 1);
  const std::string after =
      flowscope::testing::run_shell(fmt::format("curl -s http://127.0.0.1:{}/metrics", http2));
  EXPECT_NE(after.find("flowscope_clickhouse_retention_runs_total 1"), std::string::npos) << after;
  EXPECT_EQ(after.find("flowscope_clickhouse_retention_dropped_partitions_total 0\n"),
            std::string::npos)
      << after;
  EXPECT_EQ(stop(pid), 0) << slurp(dir.path() / "serve.err");
}

TEST_F(ClickHouseServerTest, UnreachableShardErrorNamesTheUrl) {
  auto o = parse_clickhouse_url("clickhouse://127.0.0.1:1/x");
  ASSERT_TRUE(o);
  o->shards[0].connect_timeout = std::chrono::milliseconds(300);
  auto b = ClickHouseBackend::open(std::move(*o));
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("http://127.0.0.1:1"), std::string::npos) << b.error().message;
  EXPECT_NE(b.error().message.find("ping"), std::string::npos) << b.error().message;
}

}  // namespace
}  // namespace flowscope::clickhouse
