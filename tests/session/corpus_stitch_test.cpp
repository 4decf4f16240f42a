// Stitching real export: captures whose records carry both directions of their connections.
// The expectations come from an independent, naive count of normalized 5-tuples (std::map),
// so a bug in the stitcher's hash table, key normalization or accounting shows as a mismatch.
#include <map>
#include <tuple>

#include <gtest/gtest.h>

#include "decode/corpus_support.h"
#include "session/stitcher.h"

namespace flowscope::session {
namespace {

struct NaiveCount {
  std::size_t keys = 0;
  std::size_t two_way = 0;
  std::uint64_t packets = 0;
  std::uint64_t records = 0;
};

NaiveCount naive(const FlowBatch& flows) {
  using End = std::tuple<IpAddress, std::uint16_t>;
  std::map<std::tuple<End, End, std::uint8_t>, int> dirs;  // bit 0: low->high, bit 1: high->low
  NaiveCount c;
  for (std::size_t row = 0; row < flows.size(); ++row) {
    if (!flows.is_set(FieldId::SrcAddr, row) || !flows.is_set(FieldId::DstAddr, row)) continue;
    const std::uint8_t proto = flows.get<FieldId::Proto>(row);
    if (proto == 1 || proto == 58) continue;  // echo pairing is the stitcher's, not naive
    if (flows.get<FieldId::SrcVlan>(row) != 0 || flows.get<FieldId::DstVlan>(row) != 0) continue;
    End a{flows.get<FieldId::SrcAddr>(row), flows.get<FieldId::SrcPort>(row)};
    End b{flows.get<FieldId::DstAddr>(row), flows.get<FieldId::DstPort>(row)};
    const bool forward = a <= b;
    dirs[{forward ? a : b, forward ? b : a, proto}] |= forward ? 1 : 2;
    c.packets += flows.get<FieldId::FlowPackets>(row);
    ++c.records;
  }
  c.keys = dirs.size();
  for (const auto& [key, bits] : dirs) c.two_way += bits == 3;
  return c;
}

// Keeps the rows the naive count understands (no ICMP, no VLAN), relabelled to one exporter
// so that no row is a cross-exporter duplicate.
FlowBatch comparable_rows(const FlowBatch& in, const IpAddress& exporter) {
  FlowBatch out;
  for (std::size_t row = 0; row < in.size(); ++row) {
    const std::uint8_t proto = in.get<FieldId::Proto>(row);
    if (proto == 1 || proto == 58) continue;
    if (in.get<FieldId::SrcVlan>(row) != 0 || in.get<FieldId::DstVlan>(row) != 0) continue;
    if (!in.is_set(FieldId::SrcAddr, row) || !in.is_set(FieldId::DstAddr, row)) continue;
    const std::size_t r = out.add_row();
    out.set<FieldId::SrcAddr>(r, in.get<FieldId::SrcAddr>(row));
    out.set<FieldId::DstAddr>(r, in.get<FieldId::DstAddr>(row));
    out.set<FieldId::SrcPort>(r, in.get<FieldId::SrcPort>(row));
    out.set<FieldId::DstPort>(r, in.get<FieldId::DstPort>(row));
    out.set<FieldId::Proto>(r, proto);
    out.set<FieldId::FlowPackets>(r, in.get<FieldId::FlowPackets>(row));
    out.set<FieldId::FlowBytes>(r, in.get<FieldId::FlowBytes>(row));
    out.set<FieldId::TcpFlags>(r, in.get<FieldId::TcpFlags>(row));
    out.set<FieldId::First>(r, in.get<FieldId::First>(row));
    out.set<FieldId::Last>(r, in.get<FieldId::Last>(row));
    out.set<FieldId::Version>(r, in.get<FieldId::Version>(row));
    out.set<FieldId::Exporter>(r, exporter);
  }
  return out;
}

// One window long enough for the whole capture, so sessions are exactly the naive keys.
StitcherConfig whole_capture() {
  StitcherConfig c;
  c.window = std::chrono::hours(24 * 365 * 30);
  c.max_open = 1 << 16;
  return c;
}

class CorpusStitch : public ::testing::TestWithParam<const char*> {};

TEST_P(CorpusStitch, MatchesANaiveCountAndTwoExportersCountOnce) {
  const auto path = testing::corpus_dir() / GetParam();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  auto decoded = testing::decode_capture(path);
  ASSERT_TRUE(decoded.read_error.empty()) << decoded.read_error;
  const FlowBatch flows = comparable_rows(decoded.batch, *IpAddress::parse("192.0.2.1"));
  ASSERT_GT(flows.size(), 0u);
  const NaiveCount expect = naive(flows);
  ASSERT_GT(expect.two_way, 0u) << "this capture should carry both directions";

  Stitcher one(whole_capture());
  SessionBatch out;
  one.add(flows, out);
  one.flush(out);
  EXPECT_EQ(out.size(), expect.keys);
  EXPECT_EQ(one.stats().sessions_two_sided, expect.two_way);
  std::uint64_t packets = 0;
  for (std::size_t row = 0; row < out.size(); ++row) {
    packets += out.get<FieldId::ClnPackets>(row) + out.get<FieldId::SrvPackets>(row);
  }
  EXPECT_EQ(packets, expect.packets);

  // The same records from a second router, interleaved batch by batch: still one session per
  // connection and the same packets, the preferred exporter's copy counted.
  const FlowBatch copy = comparable_rows(decoded.batch, *IpAddress::parse("192.0.2.2"));
  StitcherConfig config = whole_capture();
  config.exporter_precedence = {*IpAddress::parse("192.0.2.2")};
  Stitcher two(config);
  SessionBatch out2;
  two.add(flows, out2);
  two.add(copy, out2);
  two.flush(out2);
  EXPECT_EQ(out2.size(), expect.keys);
  EXPECT_EQ(two.stats().sessions_two_sided, expect.two_way);
  std::uint64_t packets2 = 0;
  for (std::size_t row = 0; row < out2.size(); ++row) {
    packets2 += out2.get<FieldId::ClnPackets>(row) + out2.get<FieldId::SrvPackets>(row);
    EXPECT_EQ(out2.get<FieldId::Exporter>(row), *IpAddress::parse("192.0.2.2"));
  }
  EXPECT_EQ(packets2, expect.packets);
  EXPECT_GT(two.stats().duplicates_replaced, 0u);
}

INSTANTIATE_TEST_SUITE_P(BothDirections, CorpusStitch,
                         ::testing::Values("ipfix/ls_ipfix_openbsd_pflow.pcap",
                                           "netflow/ls_netflow5.pcap"));

}  // namespace
}  // namespace flowscope::session
