// Property tests of execute_stat (issue F17): for random filters, groupings, counts, sides,
// buckets and windows on random sessions, the answer from rollups equals the answer from raw
// sessions, and answers on several scan threads equal the answer on one. The reference is a
// raw scan on one thread; outputs are compared as rendered CSV plus totals.
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "query/executor.h"
#include "query/filter_parser.h"
#include "query/output.h"
#include "store/embedded_store.h"
#include "store/store_test_support.h"

namespace flowscope::query {
namespace {

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay0 = 1'795'478'400'000;  // 2026-11-24T00:00:00Z

SessionBatch random_sessions(std::size_t rows, std::uint32_t seed, std::int64_t start) {
  std::mt19937 rng(seed);
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  const char* services[] = {"https", "http", "dns", "ssh"};
  SessionBatch b(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t r = b.add_row();
    const std::int64_t t = start + pick(30 * kHour);
    b.set<FieldId::StartTime>(r, t);
    b.set<FieldId::EndTime>(r, t + pick(60000));
    // Skewed populations: some hosts and pairs repeat a lot, most rarely.
    const std::uint32_t c = pick(4) == 0 ? pick(8) : pick(3000);
    b.set<FieldId::ClnAddr>(r, c % 7 == 0 ? IpAddress::from_u64(0x20010db800000000ULL + c % 50, c)
                                          : IpAddress::v4(0x0A000000u + c * 97));
    if (pick(20) != 0) b.set<FieldId::SrvAddr>(r, IpAddress::v4(0xC0A80000u + pick(300) * 5));
    b.set<FieldId::ClnPort>(r, static_cast<std::uint16_t>(1024 + pick(60000)));
    b.set<FieldId::SrvPort>(r, static_cast<std::uint16_t>(pick(3) == 0 ? 443 : 20 + pick(200)));
    b.set<FieldId::Proto>(r, static_cast<std::uint8_t>(pick(4) == 0 ? 17 : 6));
    b.set<FieldId::ClnBytes>(r, 40 + pick(100000));
    if (pick(5) != 0) b.set<FieldId::SrvBytes>(r, 40 + pick(300000));
    b.set<FieldId::ClnPackets>(r, 1 + pick(100));
    if (pick(5) != 0) b.set<FieldId::SrvPackets>(r, 1 + pick(300));
    if (pick(3) != 0) b.set<FieldId::Service>(r, services[pick(4)]);
  }
  return b;
}

std::string render(const StatSpec& spec, const StatResult& r) {
  std::ostringstream out;
  OutputOptions o;
  o.format = OutputFormat::CsvHeader;
  write_stat(out, spec, r, o);
  out << "groups " << r.total_groups << " others " << r.other_groups << " sessions "
      << r.total.sessions;
  return out.str();
}

TEST(StatProperty, RollupsAndThreadsGiveTheRawSingleThreadedAnswer) {
  store::testing::TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir.path();
  opt.sync_interval = std::chrono::milliseconds(0);
  opt.rollups = {{"cln", {FieldId::ClnAddr}},
                 {"srv", {FieldId::SrvAddr}},
                 {"pair_port", {FieldId::ClnAddr, FieldId::SrvAddr, FieldId::SrvPort}},
                 {"port_proto", {FieldId::SrvPort, FieldId::Proto}}};
  auto store = store::EmbeddedStore::open(opt);
  ASSERT_TRUE(store.has_value());
  for (std::uint32_t part = 0; part < 4; ++part) {
    ASSERT_TRUE((*store)->append(random_sessions(6000, 100 + part, kDay0 + part * 5 * kHour)));
    if (part < 3) {
      ASSERT_TRUE((*store)->flush());  // the last batch stays in the tail
    }
  }

  const char* groups[] = {
      "host",       "pair",        "srvport",        "proto", "cln_addr", "srv_addr,srv_port",
      "host/24/48", "cln_addr/16", "srv_port,proto", "port",  "service",  ""};
  const char* counts[] = {"bytes", "packets", "sessions", "uports", "uhosts"};
  const char* filters[] = {"",
                           "SRVPORT == 443",
                           "SRVPORT >= 100",
                           "PROTO == udp",
                           "CLNIP == 10.0.0.0/8",
                           "SRVIP == 192.168.0.0/20 && SRVPORT < 40",
                           "PORT < 100",
                           "BYTES > 50000 || SRVPORT == 22"};
  const std::int64_t buckets[] = {0, 0, kHour, 24 * kHour};
  std::mt19937 rng(2026);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  int from_rollups = 0;
  int threaded = 0;
  for (int round = 0; round < 30; ++round) {
    StatSpec spec;
    // Aligned windows let rollups answer; an unaligned one must not change the answer either.
    spec.where.begin_ms = kDay0 + (pick(4) == 0 ? 17 * 60000 : 0);
    spec.where.end_ms = kDay0 + (pick(2) == 0 ? 48 : 24) * kHour;
    spec.where.filter = filters[pick(std::size(filters))];
    auto g = parse_group_spec(groups[pick(std::size(groups))]);
    ASSERT_TRUE(g) << g.error().message;
    spec.group_by = *g;
    ASSERT_TRUE(parse_count_spec(counts[pick(std::size(counts))], spec));
    spec.side = static_cast<Side>(pick(3));
    spec.top = static_cast<std::uint64_t>(std::vector<int>{0, 1, 7, 50}[pick(4)]);
    spec.bucket_ms = buckets[pick(std::size(buckets))];
    const std::string what = spec.where.filter + " | group " +
                             std::to_string(spec.group_by.size()) + " items, bucket " +
                             std::to_string(spec.bucket_ms);

    ExecOptions reference;
    reference.force_scan = true;
    reference.threads = 1;
    auto want = execute_stat(**store, spec, reference);
    ASSERT_TRUE(want) << what;
    for (unsigned threads : {1u, 2u, 3u}) {
      for (bool force_scan : {false, true}) {
        ExecOptions o;
        o.threads = threads;
        o.force_scan = force_scan;
        auto got = execute_stat(**store, spec, o);
        ASSERT_TRUE(got) << what;
        EXPECT_EQ(render(spec, *got), render(spec, *want))
            << "threads " << threads << " force_scan " << force_scan << " source "
            << got->stats.source << " filter " << spec.where.filter;
        EXPECT_EQ(got->saturated, want->saturated);
        from_rollups += got->stats.source.find("rollup") != std::string::npos;
        threaded += threads > 1;
      }
    }
  }
  EXPECT_GT(from_rollups, 6) << "rollups answered too few cases to test them";
  EXPECT_GT(threaded, 0);
}

}  // namespace
}  // namespace flowscope::query
