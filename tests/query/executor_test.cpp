// Query and stat execution on an embedded store: results against straightforward computations
// over every row, rollups against raw sessions (identical), sort and limit, cancellation.
#include "query/executor.h"

#include <map>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/saturating.h"
#include "query/filter_parser.h"
#include "query/output.h"
#include "store/batch_codec.h"
#include "store/embedded_store.h"
#include "store/partition.h"
#include "store/store_test_support.h"

namespace flowscope::query {
namespace {

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay0 = 1'795'478'400'000;  // 2026-11-24T00:00:00Z

SessionBatch sessions(std::size_t rows, std::uint32_t seed, std::int64_t start) {
  std::mt19937 rng(seed);
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  SessionBatch b(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t r = b.add_row();
    b.set<FieldId::SessionId>(r, seed * 1000000ULL + i);
    const std::int64_t t = start + pick(6 * kHour);
    b.set<FieldId::StartTime>(r, t);
    b.set<FieldId::EndTime>(r, t + pick(60000));
    const std::uint32_t c = pick(40);
    b.set<FieldId::ClnAddr>(r, c % 5 == 0 ? IpAddress::from_u64(0x20010db800000000ULL + c, c)
                                          : IpAddress::v4(0x0A000000u + c * 37));
    b.set<FieldId::SrvAddr>(r, IpAddress::v4(0xC0A80000u + pick(9) * 3 + (c == 3 ? 0 : 1)));
    b.set<FieldId::ClnPort>(r, static_cast<std::uint16_t>(1024 + pick(60000)));
    b.set<FieldId::SrvPort>(r, static_cast<std::uint16_t>(pick(3) == 0 ? 443 : 20 + pick(30)));
    b.set<FieldId::Proto>(r, static_cast<std::uint8_t>(pick(4) == 0 ? 17 : 6));
    b.set<FieldId::ClnBytes>(r, 40 + pick(100000));
    if (pick(5) != 0) b.set<FieldId::SrvBytes>(r, 40 + pick(300000));
    b.set<FieldId::ClnPackets>(r, 1 + pick(100));
    if (pick(5) != 0) b.set<FieldId::SrvPackets>(r, 1 + pick(300));
  }
  return b;
}

struct Fixture {
  store::testing::TempDir dir;
  std::unique_ptr<store::EmbeddedStore> store;
  SessionBatch all;

  Fixture() {
    store::StoreOptions opt;
    opt.dir = dir.path();
    opt.sync_interval = std::chrono::milliseconds(0);
    opt.rollups = {{"pair_port", {FieldId::ClnAddr, FieldId::SrvAddr, FieldId::SrvPort}},
                   {"srv", {FieldId::SrvAddr}}};
    auto s = store::EmbeddedStore::open(opt);
    EXPECT_TRUE(s.has_value());
    store = std::move(*s);
    for (std::uint32_t part = 0; part < 3; ++part) {
      SessionBatch b = sessions(3000, part + 1, kDay0 + part * 2 * kHour);
      EXPECT_TRUE(store->append(b).has_value());
      store::append_all(b, all);
      if (part < 2) {
        EXPECT_TRUE(store->flush().has_value());  // the last batch stays in the tail
      }
    }
  }
};

Selection whole_day() {
  Selection s;
  s.begin_ms = kDay0;
  s.end_ms = kDay0 + 24 * kHour;
  return s;
}

std::string render(const StatSpec& spec, const StatResult& r) {
  std::ostringstream out;
  OutputOptions o;
  o.format = OutputFormat::CsvHeader;
  write_stat(out, spec, r, o);
  return out.str();
}

TEST(ExecuteStat, RollupsAndRawSessionsGiveIdenticalResults) {
  Fixture fx;
  struct Case {
    const char* group;
    const char* count;
    Side side;
    const char* filter;
    std::int64_t bucket;
  };
  const Case cases[] = {
      {"host", "bytes", Side::Send, "", 0},
      {"host", "bytes", Side::Receive, "", 0},
      {"pair", "uports", Side::Both, "", 0},
      {"srvport", "sessions", Side::Both, "SRVPORT >= 100", kHour},
      {"host/24/32", "packets", Side::Both, "SRVIP == 192.168.0.0/16", 0},
      {"srv_addr", "bytes", Side::Both, "", 2 * kHour},
      {"cln_addr,srv_port", "uhosts", Side::Send, "", 0},
  };
  int from_rollups = 0;
  for (const Case& c : cases) {
    StatSpec spec;
    spec.where = whole_day();
    spec.where.filter = c.filter;
    spec.group_by = *parse_group_spec(c.group);
    ASSERT_TRUE(parse_count_spec(c.count, spec));
    spec.side = c.side;
    spec.top = 7;
    spec.bucket_ms = c.bucket;
    auto fast = execute_stat(*fx.store, spec);
    ExecOptions raw_only;
    raw_only.force_scan = true;
    auto raw = execute_stat(*fx.store, spec, raw_only);
    ASSERT_TRUE(fast && raw) << c.group;
    EXPECT_EQ(raw->stats.source, "raw");
    from_rollups += fast->stats.source.find("rollup") != std::string::npos;
    EXPECT_EQ(render(spec, *fast), render(spec, *raw)) << c.group << " " << c.count;
    EXPECT_EQ(fast->total.sessions, raw->total.sessions);
    EXPECT_GT(fast->rows.size(), 0u);
  }
  EXPECT_EQ(from_rollups, 7) << "every case is covered by a rollup view";
}

// Raw retention drops the oldest hours; a rollup still holds them. A statistic over the whole
// window must keep its answer, even where the raw rows left are now fewer than the rollup's (a
// minute-level view of near-unique keys): the rollup answers.
TEST(ExecuteStat, AfterRawRetentionTheRollupAnswersTheWholeWindow) {
  Fixture fx;
  StatSpec spec;
  spec.where = whole_day();
  spec.group_by = *parse_group_spec("cln_addr,srv_addr,srv_port");
  ASSERT_TRUE(parse_count_spec("bytes", spec));
  spec.top = 50;
  spec.bucket_ms = 60'000;
  ExecOptions raw_only;
  raw_only.force_scan = true;
  auto before = execute_stat(*fx.store, spec, raw_only);
  ASSERT_TRUE(before);
  ASSERT_TRUE(fx.store->drop_level_before(store::Level::Raw, kDay0 + 5 * kHour));
  auto raw_after = execute_stat(*fx.store, spec, raw_only);
  ASSERT_TRUE(raw_after);
  ASSERT_LT(raw_after->total.sessions, before->total.sessions) << "retention dropped nothing";
  auto after = execute_stat(*fx.store, spec);
  ASSERT_TRUE(after);
  EXPECT_NE(after->stats.source.find("rollup pair_port"), std::string::npos) << after->stats.source;
  EXPECT_EQ(after->total.sessions, before->total.sessions);
  EXPECT_TRUE(render(spec, *after) == render(spec, *before)) << "the answers differ";
}

TEST(ExecuteStat, HostsBySentBytesMatchAStraightSum) {
  Fixture fx;
  StatSpec spec;
  spec.where = whole_day();
  spec.group_by = *parse_group_spec("host");
  spec.side = Side::Send;
  spec.top = 5;
  auto r = execute_stat(*fx.store, spec);
  ASSERT_TRUE(r) << r.error().message;
  std::map<IpAddress, std::uint64_t> sent;
  std::map<IpAddress, std::uint64_t> sessions;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < fx.all.size(); ++i) {
    const auto c = fx.all.get<FieldId::ClnAddr>(i);
    const auto s = fx.all.get<FieldId::SrvAddr>(i);
    sent[c] += fx.all.get<FieldId::ClnBytes>(i);
    sent[s] += fx.all.get<FieldId::SrvBytes>(i);
    ++sessions[c];
    ++sessions[s];
    total += fx.all.get<FieldId::ClnBytes>(i) + fx.all.get<FieldId::SrvBytes>(i);
  }
  std::vector<std::pair<std::uint64_t, IpAddress>> ranked;
  for (const auto& [a, v] : sent) ranked.push_back({v, a});
  std::sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first > y.first : x.second < y.second;
  });
  ASSERT_EQ(r->rows.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    const IpAddress got = r->keys.get<FieldId::ClnAddr>(i);
    EXPECT_EQ(got, ranked[i].second) << i;
    EXPECT_EQ(r->rows[i].value, ranked[i].first) << i;
    EXPECT_EQ(r->rows[i].bytes, ranked[i].first) << i;
    EXPECT_EQ(r->rows[i].sessions, sessions[got]) << i;
  }
  EXPECT_EQ(r->total.value, total);
  EXPECT_EQ(r->total_groups, sent.size());
  EXPECT_EQ(r->other_groups, sent.size() - 5);
  EXPECT_EQ(r->others.value + r->rows[0].value + r->rows[1].value + r->rows[2].value +
                r->rows[3].value + r->rows[4].value,
            total);
}

TEST(ExecuteStat, DistinctServerPortsPerPair) {
  Fixture fx;
  StatSpec spec;
  spec.where = whole_day();
  spec.where.filter = "PROTO == tcp";
  spec.group_by = *parse_group_spec("pair");
  ASSERT_TRUE(parse_count_spec("uports", spec));
  spec.top = 5;
  auto r = execute_stat(*fx.store, spec);
  ASSERT_TRUE(r) << r.error().message;
  std::map<std::pair<IpAddress, IpAddress>, std::set<std::uint16_t>> ports;
  for (std::size_t i = 0; i < fx.all.size(); ++i) {
    if (fx.all.get<FieldId::Proto>(i) != 6) continue;
    ports[{fx.all.get<FieldId::ClnAddr>(i), fx.all.get<FieldId::SrvAddr>(i)}].insert(
        fx.all.get<FieldId::SrvPort>(i));
  }
  std::vector<std::size_t> counts;
  for (const auto& [k, s] : ports) counts.push_back(s.size());
  std::sort(counts.rbegin(), counts.rend());
  ASSERT_EQ(r->rows.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r->rows[i].value, counts[i]);
    const auto key =
        std::make_pair(r->keys.get<FieldId::ClnAddr>(i), r->keys.get<FieldId::SrvAddr>(i));
    EXPECT_EQ(ports[key].size(), r->rows[i].value);
  }
}

TEST(ExecuteStat, NetworksAggregateV4AndV6Independently) {
  Fixture fx;
  StatSpec spec;
  spec.where = whole_day();
  spec.group_by = *parse_group_spec("cln_addr/8/32");
  ASSERT_TRUE(parse_count_spec("sessions", spec));
  spec.top = 0;
  auto r = execute_stat(*fx.store, spec);
  ASSERT_TRUE(r);
  std::map<IpAddress, std::uint64_t> want;
  for (std::size_t i = 0; i < fx.all.size(); ++i) {
    const IpAddress a = fx.all.get<FieldId::ClnAddr>(i);
    ++want[a.is_v4() ? mask_address(a, 104) : mask_address(a, 32)];
  }
  ASSERT_EQ(r->rows.size(), want.size());
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    EXPECT_EQ(r->rows[i].value, want[r->keys.get<FieldId::ClnAddr>(i)]);
  }
  EXPECT_EQ(want.size(), 2u) << "10/8 and 2001:db8::/32";
}

TEST(ExecuteStat, TimeSeriesSumsToTheRowTotals) {
  Fixture fx;
  StatSpec spec;
  spec.where = whole_day();
  spec.group_by = *parse_group_spec("srvport");
  spec.bucket_ms = kHour;
  spec.top = 3;
  auto r = execute_stat(*fx.store, spec);
  ASSERT_TRUE(r);
  const std::size_t nb = r->buckets.size();
  EXPECT_EQ(nb, 10u) << "sessions span 00:00 to 10:00";
  for (std::size_t row = 0; row <= r->rows.size(); ++row) {
    std::uint64_t sum = 0;
    for (std::size_t b = 0; b < nb; ++b) sum += r->series[row * nb + b];
    EXPECT_EQ(sum, row < r->rows.size() ? r->rows[row].value : r->others.value) << row;
  }
}

TEST(ExecuteQuery, FilterSortLimit) {
  Fixture fx;
  QuerySpec spec;
  spec.where = whole_day();
  spec.where.filter = "SRVPORT == 443 && TOTBYTS > 100000";
  spec.fields = {FieldId::SessionId, FieldId::TotalBytes};
  spec.sort = {{FieldId::TotalBytes, true}};
  spec.limit = 25;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> got;
  auto stats = execute_query(*fx.store, spec, [&](const SessionBatch& b) {
    for (std::size_t i = 0; i < b.size(); ++i) {
      got.push_back({b.get<FieldId::ClnBytes>(i) + b.get<FieldId::SrvBytes>(i),
                     b.get<FieldId::SessionId>(i)});
    }
    return true;
  });
  ASSERT_TRUE(stats) << stats.error().message;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> want;
  for (std::size_t i = 0; i < fx.all.size(); ++i) {
    const std::uint64_t total = fx.all.get<FieldId::ClnBytes>(i) + fx.all.get<FieldId::SrvBytes>(i);
    if (fx.all.get<FieldId::SrvPort>(i) == 443 && total > 100000) {
      want.push_back({total, fx.all.get<FieldId::SessionId>(i)});
    }
  }
  EXPECT_EQ(stats->rows_matched, want.size());
  std::stable_sort(want.begin(), want.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  ASSERT_GT(want.size(), 25u);
  want.resize(25);
  ASSERT_EQ(got.size(), 25u);
  for (std::size_t i = 0; i < 25; ++i) EXPECT_EQ(got[i].first, want[i].first) << i;
}

// A sort with a limit cuts its buffer and then skips rows whose first key is past the cut's
// last row: on enough rows for many cuts, every order (ties, absent values, both directions,
// several keys) gives exactly the first rows of the unlimited sort, in the same order.
TEST(ExecuteQuery, SortWithALimitEqualsTheHeadOfTheWholeSort) {
  store::testing::TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir.path();
  opt.sync_interval = std::chrono::milliseconds(0);
  auto opened = store::EmbeddedStore::open(opt);
  ASSERT_TRUE(opened.has_value());
  auto& st = **opened;
  for (std::uint32_t part = 0; part < 8; ++part) {
    SessionBatch b = sessions(12000, 100 + part, kDay0 + part * kHour);
    ASSERT_TRUE(st.append(b).has_value());
    if (part % 3 != 2) {
      ASSERT_TRUE(st.flush().has_value());
    }
  }
  const std::vector<std::vector<SortKey>> orders = {
      {{FieldId::TotalBytes, true}},
      {{FieldId::ClnBytes, false}},
      {{FieldId::SrvPort, false}},                             // mostly ties: scan order
      {{FieldId::SrvBytes, true}},                             // absent values last
      {{FieldId::SrvBytes, false}, {FieldId::ClnPort, true}},  // absent first key, then a second
      {{FieldId::Proto, true}, {FieldId::SrvPort, false}, {FieldId::ClnBytes, true}},
      {{FieldId::ClnAddr, false}},
  };
  auto ids = [&](const QuerySpec& spec) {
    std::vector<std::uint64_t> out;
    auto stats = execute_query(st, spec, [&](const SessionBatch& b) {
      for (std::size_t i = 0; i < b.size(); ++i) out.push_back(b.get<FieldId::SessionId>(i));
      return true;
    });
    EXPECT_TRUE(stats) << stats.error().message;
    return out;
  };
  for (const auto& order : orders) {
    QuerySpec spec;
    spec.where = whole_day();
    spec.fields = {FieldId::SessionId};
    spec.sort = order;
    const std::vector<std::uint64_t> all = ids(spec);
    ASSERT_EQ(all.size(), 96000u);
    for (std::size_t limit : {1u, 25u, 1000u, 30000u}) {
      spec.limit = limit;
      const std::vector<std::uint64_t> head(all.begin(),
                                            all.begin() + static_cast<std::ptrdiff_t>(limit));
      EXPECT_EQ(ids(spec), head) << "order " << field_info(order.front().field).name << " limit "
                                 << limit;
    }
  }
}

TEST(ExecuteQuery, LimitWithoutSortStopsEarly) {
  Fixture fx;
  QuerySpec spec;
  spec.where = whole_day();
  spec.limit = 10;
  std::size_t rows = 0;
  auto stats = execute_query(*fx.store, spec, [&](const SessionBatch& b) {
    rows += b.size();
    return true;
  });
  ASSERT_TRUE(stats);
  EXPECT_EQ(rows, 10u);
}

TEST(Execute, CancelledQueriesStop) {
  Fixture fx;
  ExecOptions opt;
  opt.cancel.cancel();
  QuerySpec q;
  auto r = execute_query(
      *fx.store, q, [](const SessionBatch&) { return true; }, opt);
  ASSERT_FALSE(r);
  EXPECT_TRUE(is_cancelled(r.error()));
  StatSpec s;
  s.group_by = *parse_group_spec("host");
  auto st = execute_stat(*fx.store, s, opt);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::Cancelled);
}

TEST(Execute, BadFiltersReportTheirPosition) {
  Fixture fx;
  QuerySpec q;
  q.where.filter = "SRVPORT == 80 && BOGUS == 1";
  auto r = execute_query(*fx.store, q, [](const SessionBatch&) { return true; });
  ASSERT_FALSE(r);
  ASSERT_TRUE(r.error().where);
  EXPECT_EQ(r.error().where->offset, 17u);
}

// F15 item 7: hostile counters whose sum passes 2^64 clamp at 2^64 - 1 instead of wrapping (a
// total smaller than its top row), on raw scans and rollups alike, and the output says so.
TEST(ExecuteStat, SumsSaturateInsteadOfWrapping) {
  store::testing::TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir.path();
  opt.sync_interval = std::chrono::milliseconds(0);
  opt.rollups = {{"srv", {FieldId::SrvAddr}}};
  auto st = store::EmbeddedStore::open(opt);
  ASSERT_TRUE(st);
  SessionBatch b;
  for (std::uint64_t i = 0; i < 4; ++i) {
    const std::size_t r = b.add_row();
    b.set<FieldId::SessionId>(r, i + 1);
    b.set<FieldId::StartTime>(r, kDay0 + static_cast<std::int64_t>(i) * 1000);
    b.set<FieldId::EndTime>(r, kDay0 + static_cast<std::int64_t>(i) * 1000 + 10);
    b.set<FieldId::ClnAddr>(r, IpAddress::v4(0x0A000001u));
    b.set<FieldId::SrvAddr>(r, IpAddress::v4(i < 3 ? 0xC0A80001u : 0xC0A80002u));
    b.set<FieldId::ClnBytes>(r, i < 3 ? (std::uint64_t{1} << 63) + 5 : 10);
    b.set<FieldId::SrvBytes>(r, i < 3 ? (std::uint64_t{1} << 63) : 20);
    b.set<FieldId::ClnPackets>(r, 1);
  }
  ASSERT_TRUE((*st)->append(b));
  ASSERT_TRUE((*st)->flush());
  for (const bool raw : {true, false}) {
    StatSpec spec;
    spec.where = whole_day();
    auto g = parse_group_spec("srv_addr");
    ASSERT_TRUE(g);
    spec.group_by = *g;
    ExecOptions o;
    o.force_scan = raw;
    auto r = execute_stat(**st, spec, o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->rows.size(), 2u);
    EXPECT_EQ(r->rows[0].bytes, kSaturated) << (raw ? "raw" : r->stats.source);
    EXPECT_EQ(r->rows[0].value, kSaturated);
    EXPECT_EQ(r->rows[1].bytes, 30u);
    EXPECT_EQ(r->total.bytes, kSaturated);
    EXPECT_GE(r->total.value, r->rows[0].value);
    EXPECT_TRUE(r->saturated);
    std::ostringstream table;
    write_stat(table, spec, *r, OutputOptions{});
    EXPECT_NE(table.str().find("were clamped"), std::string::npos) << table.str();
    std::ostringstream json;
    OutputOptions jo;
    jo.format = OutputFormat::JsonLines;
    write_stat(json, spec, *r, jo);
    EXPECT_NE(json.str().find("\"saturated\":true"), std::string::npos) << json.str();
  }
  // Ordinary sums say nothing.
  Fixture fx;
  StatSpec spec;
  spec.where = whole_day();
  auto r = execute_stat(*fx.store, spec);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->saturated);
}

// A restriction attached to a Selection is ANDed as a tree: it narrows whatever the filter says,
// and the user's filter errors keep their positions in the user's text.
TEST(Execute, RestrictionIsAndedAsATree) {
  Fixture fx;
  auto only_udp = parse_filter("PROTO == udp");
  ASSERT_TRUE(only_udp);
  QuerySpec q;
  q.where = whole_day();
  q.where.filter = "PROTO == tcp || PROTO == udp";
  q.where.restriction = std::make_shared<const FilterExpr>(*only_udp);
  q.fields = {FieldId::Proto};
  std::size_t rows = 0;
  std::size_t tcp = 0;
  auto stats = execute_query(*fx.store, q, [&](const SessionBatch& batch) {
    for (std::size_t i = 0; i < batch.size(); ++i) tcp += batch.get<FieldId::Proto>(i) == 6;
    rows += batch.size();
    return true;
  });
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_GT(rows, 0u);
  EXPECT_EQ(tcp, 0u);
  q.where.filter = "SRVPORT == 80 && BOGUS == 1";
  auto bad = execute_query(*fx.store, q, [](const SessionBatch&) { return true; });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().where->offset, 17u);
}

TEST(QuerySpecJson, RoundTrips) {
  StatSpec s;
  s.where.filter = "dst port 443";
  s.where.syntax = FilterSyntax::Nfdump;
  s.where.begin_ms = 5;
  s.where.end_ms = 10;
  s.group_by = *parse_group_spec("host/24/64,srvport,country");
  ASSERT_TRUE(parse_count_spec("unique:CLNPORT", s));
  s.side = Side::Receive;
  s.top = 25;
  s.bucket_ms = kHour;
  auto back = stat_spec_from_json(to_json(s));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(s));
  EXPECT_EQ(back->group_by, s.group_by);
  EXPECT_TRUE(back->group_by[2].both_sides);
  // IP groups by name (`group`), by id (`group_id`), location and activity keep their fields
  // on the way to a server (-srv, the HTTP API).
  s.group_by = *parse_group_spec("group,group_id,location,activity");
  EXPECT_EQ(s.group_by[0].field, FieldId::GroupName);
  EXPECT_EQ(s.group_by[1].field, FieldId::Group);
  EXPECT_EQ(s.group_by[2].field, FieldId::Location);
  EXPECT_EQ(s.group_by[3].field, FieldId::Activity);
  back = stat_spec_from_json(to_json(s));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->group_by, s.group_by);
  EXPECT_EQ(to_json(s)["group_by"][1], "group_id");

  QuerySpec q;
  q.where.filter = "PORT == 53";
  q.fields = {FieldId::ClnAddr, FieldId::TotalBytes};
  q.sort = {{FieldId::StartTime, true}};
  q.limit = 3;
  auto qb = query_spec_from_json(to_json(q));
  ASSERT_TRUE(qb);
  EXPECT_EQ(to_json(*qb), to_json(q));
  EXPECT_FALSE(query_spec_from_json(nlohmann::json{{"fields", {"nope"}}}));
  EXPECT_FALSE(stat_spec_from_json(nlohmann::json{{"top", "x"}}));
}

}  // namespace
}  // namespace flowscope::query
