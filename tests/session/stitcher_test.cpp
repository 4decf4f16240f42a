#include "session/stitcher.h"

#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/tcp_flags.h"
#include "session/flow_builder.h"

namespace flowscope::session {
namespace {

using namespace tcp_flags;
using testing::add_flow;
using testing::FlowSpec;
using testing::ip;

TEST(Stitcher, BothDirectionsBecomeOneTwoSidedSession) {
  Stitcher s({});
  FlowBatch flows;
  add_flow(flows, {"10.0.0.5", 51000, "198.51.100.7", 443, 6, 10, 1000, 1000, 2000,
                   kSyn | kAck | kPsh | kFin});
  add_flow(flows, {"198.51.100.7", 443, "10.0.0.5", 51000, 6, 8, 9000, 1001, 2001,
                   kSyn | kAck | kPsh | kFin});
  SessionBatch out;
  s.add(flows, out);
  EXPECT_EQ(out.size(), 0u) << "sessions stay open for the window";
  EXPECT_EQ(s.open_sessions(), 1u);
  s.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::ClnAddr>(0), ip("10.0.0.5"));
  EXPECT_EQ(out.get<FieldId::SrvAddr>(0), ip("198.51.100.7"));
  EXPECT_EQ(out.get<FieldId::ClnPort>(0), 51000);
  EXPECT_EQ(out.get<FieldId::SrvPort>(0), 443);
  EXPECT_EQ(out.get<FieldId::ClnPackets>(0), 10u);
  EXPECT_EQ(out.get<FieldId::SrvPackets>(0), 8u);
  EXPECT_EQ(out.get<FieldId::ClnBytes>(0), 1000u);
  EXPECT_EQ(out.get<FieldId::SrvBytes>(0), 9000u);
  EXPECT_EQ(out.get<FieldId::StartTime>(0), 1000);
  EXPECT_EQ(out.get<FieldId::EndTime>(0), 2001);
  EXPECT_EQ(out.get<FieldId::Sides>(0), 2);
  EXPECT_EQ(out.get<FieldId::SessionId>(0), 1u);
  EXPECT_EQ(s.stats().sessions_two_sided, 1u);
  EXPECT_EQ(s.stats().closed_flush, 1u);
  EXPECT_EQ(s.stats().client_by_reason[static_cast<int>(ClientReason::SynFirst)], 1u);
  EXPECT_EQ(s.open_sessions(), 0u);
}

TEST(Stitcher, UnmatchedRecordsStayOneSided) {
  Stitcher s({});
  FlowBatch flows;
  add_flow(flows, {"10.0.0.5", 51000, "198.51.100.7", 443});
  add_flow(flows, {"10.0.0.6", 51000, "198.51.100.7", 443});
  SessionBatch out;
  s.add(flows, out);
  s.flush(out);
  ASSERT_EQ(out.size(), 2u);
  for (std::size_t row = 0; row < 2; ++row) {
    EXPECT_EQ(out.get<FieldId::Sides>(row), 1);
    EXPECT_EQ(out.get<FieldId::SrvPackets>(row), 0u);
    EXPECT_EQ(out.get<FieldId::SrvPort>(row), 443);
  }
  EXPECT_EQ(s.stats().sessions_one_sided, 2u);
}

TEST(Stitcher, OnlyTheServerSideSeenStillNamesTheClient) {
  Stitcher s({});
  FlowBatch flows;
  add_flow(flows, {"198.51.100.7", 22, "10.0.0.5", 40022, 6, 5, 500});
  SessionBatch out;
  s.add(flows, out);
  s.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::ClnAddr>(0), ip("10.0.0.5"));
  EXPECT_EQ(out.get<FieldId::ClnPackets>(0), 0u);
  EXPECT_EQ(out.get<FieldId::SrvPackets>(0), 5u);
}

TEST(Stitcher, SameFlowFromTwoExportersIsCountedOnceByPrecedence) {
  StitcherConfig config;
  config.exporter_precedence = {ip("192.0.2.2")};  // the core router is preferred
  Stitcher s(config);
  FlowBatch flows;
  // The edge router (192.0.2.1) reports both directions first, then the core router reports
  // the same flow with slightly different counts (its own view).
  add_flow(flows, {"10.0.0.5", 51000, "198.51.100.7", 443, 6, 10, 1000});
  add_flow(flows, {"198.51.100.7", 443, "10.0.0.5", 51000, 6, 8, 9000});
  FlowSpec core_fwd{"10.0.0.5", 51000, "198.51.100.7", 443, 6, 11, 1100};
  core_fwd.exporter = "192.0.2.2";
  add_flow(flows, core_fwd);
  FlowSpec edge_again{"10.0.0.5", 51000, "198.51.100.7", 443, 6, 10, 1000};
  edge_again.exporter = "192.0.2.3";  // a third, unlisted router: loses to both
  add_flow(flows, edge_again);
  SessionBatch out;
  s.add(flows, out);
  s.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::ClnPackets>(0), 11u) << "the preferred exporter's count";
  EXPECT_EQ(out.get<FieldId::ClnBytes>(0), 1100u);
  EXPECT_EQ(out.get<FieldId::SrvPackets>(0), 8u) << "only the edge saw the return path";
  EXPECT_EQ(out.get<FieldId::Exporter>(0), ip("192.0.2.2"));
  EXPECT_EQ(s.stats().duplicates_replaced, 1u);
  EXPECT_EQ(s.stats().duplicates_dropped, 1u);
}

TEST(Stitcher, SplitRecordsOfOneExporterAddUp) {
  Stitcher s({});
  FlowBatch flows;
  add_flow(flows, {"10.0.0.5", 51000, "198.51.100.7", 443, 6, 10, 1000, 1000, 1500, kSyn | kAck});
  add_flow(flows, {"10.0.0.5", 51000, "198.51.100.7", 443, 6, 5, 500, 1600, 1900, kAck | kFin});
  SessionBatch out;
  s.add(flows, out);
  s.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::ClnPackets>(0), 15u);
  EXPECT_EQ(out.get<FieldId::ClnTcpFlags>(0), kSyn | kAck | kFin);
  EXPECT_EQ(out.get<FieldId::StartTime>(0), 1000);
  EXPECT_EQ(out.get<FieldId::EndTime>(0), 1900);
  EXPECT_EQ(s.stats().records_merged, 1u);
}

TEST(Stitcher, SamplingScalesCountsAndKeepsRawValues) {
  StitcherConfig config;
  config.exporter_rules = {{ip("192.0.2.9"), 1000}};
  Stitcher s(config);
  FlowBatch flows;
  FlowSpec sampled{"10.0.0.5", 51000, "198.51.100.7", 443, 6, 3, 300};
  sampled.sampling = 100;
  add_flow(flows, sampled);
  FlowSpec overridden{"198.51.100.7", 443, "10.0.0.5", 51000, 6, 2, 200};
  overridden.sampling = 100;
  overridden.exporter = "192.0.2.9";  // its configured rate wins over the record's
  add_flow(flows, overridden);
  FlowSpec sflow{"10.9.9.9", 40000, "198.51.100.8", 80, 6, 512, 512 * 60};
  sflow.sampling = 512;
  sflow.version = 21;  // the sFlow decoder already scaled: raw is divided back
  add_flow(flows, sflow);
  SessionBatch out;
  s.add(flows, out);
  s.flush(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.get<FieldId::ClnPackets>(0), 300u);
  EXPECT_EQ(out.get<FieldId::ClnPacketsRaw>(0), 3u);
  EXPECT_EQ(out.get<FieldId::ClnBytes>(0), 30000u);
  EXPECT_EQ(out.get<FieldId::ClnBytesRaw>(0), 300u);
  EXPECT_EQ(out.get<FieldId::SrvPackets>(0), 2000u);
  EXPECT_EQ(out.get<FieldId::SrvPacketsRaw>(0), 2u);
  EXPECT_EQ(out.get<FieldId::Sampling>(0), 100u);
  EXPECT_EQ(out.get<FieldId::ClnPackets>(1), 512u);
  EXPECT_EQ(out.get<FieldId::ClnPacketsRaw>(1), 1u);
  EXPECT_EQ(out.get<FieldId::ClnBytesRaw>(1), 60u);
}

TEST(Stitcher, WindowClosesIdleSessionsAndSeparatesLateRecords) {
  StitcherConfig config;
  config.window = std::chrono::seconds(10);
  Stitcher s(config);
  SessionBatch out;
  FlowBatch a;
  add_flow(a, {"10.0.0.5", 51000, "198.51.100.7", 443, 6, 1, 100, 1000, 1000});
  s.add(a, out);
  FlowBatch b;  // another session 5 s later keeps the clock moving but not past the window
  add_flow(b, {"10.0.0.6", 51000, "198.51.100.7", 443, 6, 1, 100, 6000, 6000});
  s.add(b, out);
  EXPECT_EQ(out.size(), 0u);
  FlowBatch c;  // the reverse of the first, 12 s after it: too late to meet it
  add_flow(c, {"198.51.100.7", 443, "10.0.0.5", 51000, 6, 1, 100, 12000, 12000});
  s.add(c, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::ClnAddr>(0), ip("10.0.0.5"));
  EXPECT_EQ(out.get<FieldId::Sides>(0), 1);
  EXPECT_EQ(s.stats().closed_idle, 1u);
  s.advance(time_from_ms(100000), out);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(s.stats().closed_idle, 3u);
  EXPECT_EQ(s.open_sessions(), 0u);
}

TEST(Stitcher, MaxOpenBoundsMemoryAndCountsEvictions) {
  StitcherConfig config;
  config.max_open = 2;
  Stitcher s(config);
  const std::size_t memory = s.memory_bytes();
  FlowBatch flows;
  add_flow(flows, {"10.0.0.1", 40000, "198.51.100.7", 443, 6, 1, 100, 1000, 1000});
  add_flow(flows, {"10.0.0.2", 40000, "198.51.100.7", 443, 6, 1, 100, 1001, 1001});
  add_flow(flows, {"10.0.0.3", 40000, "198.51.100.7", 443, 6, 1, 100, 1002, 1002});
  add_flow(flows, {"10.0.0.2", 40000, "198.51.100.7", 443, 6, 1, 100, 1003, 1003});
  SessionBatch out;
  s.add(flows, out);
  EXPECT_EQ(s.open_sessions(), 2u);
  EXPECT_EQ(s.stats().closed_capacity, 1u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::ClnAddr>(0), ip("10.0.0.1")) << "the least recently touched";
  EXPECT_EQ(s.memory_bytes(), memory) << "no growth past max_open";
  s.flush(out);
  EXPECT_EQ(out.size(), 3u);
}

TEST(Stitcher, VlansMustMatchAndOneSidedVlanIsShared) {
  Stitcher s({});
  FlowBatch flows;
  FlowSpec fwd{"10.0.0.5", 51000, "10.0.0.9", 80};
  fwd.src_vlan = 10;
  add_flow(flows, fwd);
  FlowSpec rev{"10.0.0.9", 80, "10.0.0.5", 51000};
  rev.src_vlan = 10;  // the same segment: stitches
  add_flow(flows, rev);
  FlowSpec other{"10.0.0.9", 80, "10.0.0.5", 51000};
  other.src_vlan = 20;  // the same 5-tuple in another VLAN: another session
  add_flow(flows, other);
  SessionBatch out;
  s.add(flows, out);
  s.flush(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(s.stats().sessions_two_sided, 1u);
  EXPECT_EQ(out.get<FieldId::InVlan>(0), 10);
}

TEST(Stitcher, IcmpEchoRequestAndReplyStitch) {
  Stitcher s({});
  FlowBatch flows;
  add_flow(flows, {"198.51.100.7", 0, "10.0.0.5", 0x0000, 1, 4, 336});  // echo reply
  add_flow(flows, {"10.0.0.5", 0, "198.51.100.7", 0x0800, 1, 4, 336});  // echo request
  SessionBatch out;
  s.add(flows, out);
  s.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::Sides>(0), 2);
  EXPECT_EQ(out.get<FieldId::ClnAddr>(0), ip("10.0.0.5"));
}

TEST(Stitcher, ManySessionsThroughATinyTableStayConsistent) {
  // Exercises backward-shift deletion: many inserts and closes through a small index.
  StitcherConfig config;
  config.max_open = 64;
  config.window = std::chrono::milliseconds(50);
  Stitcher s(config);
  SessionBatch out;
  std::uint64_t records = 0;
  for (int round = 0; round < 200; ++round) {
    FlowBatch flows;
    for (int i = 0; i < 40; ++i) {
      const std::int64_t t = round * 10 + i % 3;
      const std::uint16_t port = static_cast<std::uint16_t>(1024 + (round * 40 + i) % 3000);
      add_flow(flows, {"10.0.0.1", port, "10.0.0.2", 80, 6, 1, 10, t, t});
      add_flow(flows, {"10.0.0.2", 80, "10.0.0.1", port, 6, 1, 10, t, t});
      records += 2;
    }
    s.add(flows, out);
  }
  s.flush(out);
  std::uint64_t packets = 0;
  for (std::size_t row = 0; row < out.size(); ++row) {
    packets += out.get<FieldId::ClnPackets>(row) + out.get<FieldId::SrvPackets>(row);
  }
  EXPECT_EQ(packets, records) << "every record counted exactly once";
  EXPECT_EQ(s.stats().sessions, out.size());
  EXPECT_EQ(s.open_sessions(), 0u);
}

}  // namespace
}  // namespace flowscope::session

namespace flowscope::session {
namespace {

// Checkpoints (server/flow_wal.h) name the open sessions by their key hash, and a replay keeps
// a logged record only when its hash is among them: distinct open keys need distinct hashes.
// Clients of one /16 on 3,000 ports talking to one server (what a NAT or a load test sends)
// collided 28 times in the first 2,000 keys before hash_key mixed every word; the list also
// holds every open session once while the slab doubles and the expiry ring turns over.
TEST(Stitcher, OpenSessionsHaveDistinctKeyHashes) {
  StitcherConfig config;
  config.window = std::chrono::milliseconds(2000);
  Stitcher s(config);
  SessionBatch out;
  std::uint64_t seed = 7;
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed >> 33;
  };
  std::int64_t t = 1'000'000;
  for (int batch = 0; batch < 60; ++batch) {
    FlowBatch flows;
    for (int i = 0; i < 2000; ++i) {
      t += 1;
      const auto client = fmt::format("10.0.{}.{}", next() % 4, next() % 250 + 1);
      const auto port = static_cast<std::uint16_t>(50000 + next() % 3000);
      FlowSpec f{client, port, "198.51.100.7", 443};
      f.first = t - static_cast<std::int64_t>(next() % 3000);
      f.last = t;
      add_flow(flows, f);
    }
    s.add(flows, out);
    std::vector<OpenSession> open;
    s.open_sessions(open);
    ASSERT_EQ(open.size(), s.open_sessions()) << "batch " << batch;
    std::set<std::uint64_t> keys;
    for (const OpenSession& o : open) keys.insert(o.key_hash);
    ASSERT_EQ(keys.size(), open.size()) << "batch " << batch << ": a session listed twice";
  }
}

}  // namespace
}  // namespace flowscope::session
