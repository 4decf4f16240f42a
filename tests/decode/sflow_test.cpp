// sFlow v2/v4/v5: datagrams built field by field with an XDR writer, and the one real capture
// of the corpus against its tshark truth.
#include "decode/sflow.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "decode/corpus_support.h"

namespace flowscope::decode {
namespace {

// Writes XDR (big-endian 32-bit words, opaque data padded to 4 bytes).
class Xdr {
 public:
  Xdr& u32(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) bytes_.push_back(static_cast<std::byte>(v >> s));
    return *this;
  }
  Xdr& u64(std::uint64_t v) {
    return u32(static_cast<std::uint32_t>(v >> 32)).u32(static_cast<std::uint32_t>(v));
  }
  Xdr& raw(std::initializer_list<int> b) {
    for (int v : b) bytes_.push_back(static_cast<std::byte>(v));
    return *this;
  }
  Xdr& ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return raw({a, b, c, d});
  }
  Xdr& opaque(const std::vector<std::byte>& data) {
    u32(static_cast<std::uint32_t>(data.size()));
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    while (bytes_.size() % 4 != 0) bytes_.push_back(std::byte{0});
    return *this;
  }
  Xdr& append(const Xdr& other) {
    bytes_.insert(bytes_.end(), other.bytes_.begin(), other.bytes_.end());
    return *this;
  }
  // A v5 length-prefixed block: format, length, then what `body` writes.
  Xdr& block(std::uint32_t format, const Xdr& body) {
    u32(format).u32(static_cast<std::uint32_t>(body.bytes_.size()));
    bytes_.insert(bytes_.end(), body.bytes_.begin(), body.bytes_.end());
    return *this;
  }
  const std::vector<std::byte>& bytes() const { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

// Ethernet + 802.1Q 42 + IPv4 (10.0.0.1 -> 10.0.0.2, TCP, tos 0x10, total length 1500) + TCP
// 40000 -> 443 with SYN|ACK, as a switch samples it: only the first bytes.
std::vector<std::byte> sampled_tcp_frame() {
  Xdr x;
  x.raw({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0x00, 42, 0x08, 0x00});
  x.raw({0x45, 0x10, 0x05, 0xdc, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
  x.raw({0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0});
  return x.bytes();
}

Xdr v5_header(std::uint32_t sequence, std::uint32_t uptime, std::uint32_t samples) {
  Xdr x;
  x.u32(5).u32(1).ipv4(192, 0, 2, 1).u32(7).u32(sequence).u32(uptime).u32(samples);
  return x;
}

Xdr v5_flow_sample(std::uint32_t rate) {
  Xdr records;
  records.block(1, Xdr().u32(1).u32(1518).u32(4).opaque(sampled_tcp_frame()));
  records.block(1001, Xdr().u32(42).u32(0).u32(43).u32(0));
  records.block(1003, Xdr()
                          .u32(1)
                          .ipv4(192, 0, 2, 254)  // next hop
                          .u32(65000)
                          .u32(64500)
                          .u32(64501)
                          .u32(1)
                          .u32(2)
                          .u32(2)
                          .u32(64502)
                          .u32(64503)  // one sequence of 2
                          .u32(1)
                          .u32(0xfffe0001)     // one community
                          .u32(100));          // local pref
  records.block(2100, Xdr().u32(0xdeadbeef));  // an unknown record, skipped by length
  Xdr sample;
  // sequence, source id (type 0, index 3), rate, pool, drops, input 3, output 5, 4 records
  sample.u32(1).u32(3).u32(rate).u32(rate * 10).u32(0).u32(3).u32(5).u32(4);
  return sample.append(records);
}

Datagram datagram(const std::vector<std::byte>& bytes) {
  return Datagram{bytes, IpAddress::v4(0xC0000201), time_from_ms(1795496777000)};
}

TEST(Sflow, V5FlowSampleBecomesAScaledRecord) {
  Xdr d = v5_header(1, 1000, 1);
  d.block(1, v5_flow_sample(512));
  SflowDecoder decoder;
  DecodeStats stats;
  FlowBatch batch;
  ASSERT_EQ(decoder.decode(datagram(d.bytes()), stats, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::SrcAddr>(0).to_string(), "10.0.0.1");
  EXPECT_EQ(batch.get<FieldId::DstAddr>(0).to_string(), "10.0.0.2");
  EXPECT_EQ(batch.get<FieldId::SrcPort>(0), 40000);
  EXPECT_EQ(batch.get<FieldId::DstPort>(0), 443);
  EXPECT_EQ(batch.get<FieldId::Proto>(0), 6);
  EXPECT_EQ(batch.get<FieldId::TcpFlags>(0), 0x12);
  EXPECT_EQ(batch.get<FieldId::Tos>(0), 0x10);
  EXPECT_EQ(batch.get<FieldId::FlowPackets>(0), 512u);
  EXPECT_EQ(batch.get<FieldId::FlowBytes>(0), 1500u * 512);  // IP length x rate
  EXPECT_EQ(batch.get<FieldId::Sampling>(0), 512u);
  EXPECT_EQ(batch.get<FieldId::InIf>(0), 3u);
  EXPECT_EQ(batch.get<FieldId::OutIf>(0), 5u);
  EXPECT_EQ(batch.get<FieldId::SrcVlan>(0), 42);
  EXPECT_EQ(batch.get<FieldId::DstVlan>(0), 43);
  EXPECT_EQ(batch.get<FieldId::SrcAs>(0), 64500u);
  EXPECT_EQ(batch.get<FieldId::DstAs>(0), 64503u);  // last AS of the path
  EXPECT_EQ(batch.get<FieldId::NextHop>(0).to_string(), "192.0.2.254");
  EXPECT_EQ(batch.get<FieldId::Version>(0), 21);
  EXPECT_EQ(batch.get<FieldId::SourceId>(0), 7u);
  EXPECT_EQ(batch.get<FieldId::Exporter>(0).to_string(), "192.0.2.1");
  EXPECT_EQ(batch.get<FieldId::First>(0), 1795496777000);
  const ExporterStats& es = stats.exporters().at(IpAddress::v4(0xC0000201));
  EXPECT_EQ(es.records, 1u);
  EXPECT_EQ(es.unknown_elements, 1u);
  EXPECT_EQ(es.dropped, 0u);
}

TEST(Sflow, V5CountersAndSequenceGaps) {
  Xdr counters;
  counters.u32(9).u32(1043).u32(1);  // sequence, source id, one record
  Xdr ifc;
  ifc.u32(1043)
      .u32(6)
      .u64(100000000)
      .u32(1)
      .u32(3)
      .u64(50956132)
      .u32(15759)
      .u32(1)
      .u32(2)
      .u32(0)
      .u32(0)
      .u32(0)
      .u64(102590282)
      .u32(21495)
      .u32(3)
      .u32(4)
      .u32(0)
      .u32(0)
      .u32(0);
  counters.block(1, ifc);
  SflowDecoder decoder;
  DecodeStats stats;
  FlowBatch batch;
  for (std::uint32_t seq : {10u, 11u, 14u}) {
    Xdr d = v5_header(seq, seq * 1000, 1);
    d.block(2, counters);
    EXPECT_EQ(decoder.decode(datagram(d.bytes()), stats, batch), 0u);
  }
  const auto& table = decoder.interface_counters();
  ASSERT_EQ(table.size(), 1u);
  const InterfaceCounters& c = table.begin()->second;
  EXPECT_EQ(c.if_index, 1043u);
  EXPECT_EQ(c.if_speed, 100000000u);
  EXPECT_EQ(c.in_octets, 50956132u);
  EXPECT_EQ(c.out_octets, 102590282u);
  EXPECT_EQ(c.in_unicast, 15759u);
  const ExporterStats& es = stats.exporters().at(IpAddress::v4(0xC0000201));
  EXPECT_EQ(es.sequence_gaps, 1u);  // 11 -> 14
  EXPECT_EQ(es.packets, 3u);
  // An agent restart (uptime and sequence back to low values) is not a gap.
  Xdr again = v5_header(1, 5, 1);
  again.block(2, counters);
  decoder.decode(datagram(again.bytes()), stats, batch);
  EXPECT_EQ(stats.exporters().at(IpAddress::v4(0xC0000201)).restarts, 1u);
  EXPECT_EQ(stats.exporters().at(IpAddress::v4(0xC0000201)).sequence_gaps, 1u);
}

TEST(Sflow, V4AndV2FlowSamplesWithoutLengths) {
  for (std::uint32_t version : {2u, 4u}) {
    Xdr d;
    d.u32(version).u32(1).ipv4(198, 51, 100, 7).u32(1).u32(100).u32(1);
    d.u32(1);  // flow sample
    d.u32(1).u32(2).u32(100).u32(1000).u32(0).u32(6).u32(9);
    d.u32(2);  // sampled IPv4 data
    d.u32(60).u32(17).ipv4(10, 1, 1, 1).ipv4(10, 2, 2, 2).u32(5353).u32(53).u32(0).u32(0);
    d.u32(2);                                  // two extended records
    d.u32(1).u32(100).u32(0).u32(200).u32(0);  // switch
    d.u32(3);                                  // gateway
    d.u32(65000).u32(64510).u32(64511);
    if (version == 2) {
      d.u32(2).u32(64512).u32(64513);  // flat path
    } else {
      d.u32(1).u32(2).u32(2).u32(64512).u32(64513).u32(0).u32(50);
    }
    SflowDecoder decoder;
    DecodeStats stats;
    FlowBatch batch;
    ASSERT_EQ(decoder.decode(datagram(d.bytes()), stats, batch), 1u) << version;
    EXPECT_EQ(batch.get<FieldId::SrcAddr>(0).to_string(), "10.1.1.1");
    EXPECT_EQ(batch.get<FieldId::DstPort>(0), 53);
    EXPECT_EQ(batch.get<FieldId::Proto>(0), 17);
    EXPECT_EQ(batch.get<FieldId::FlowPackets>(0), 100u);
    EXPECT_EQ(batch.get<FieldId::FlowBytes>(0), 6000u);
    EXPECT_EQ(batch.get<FieldId::SrcVlan>(0), 100);
    EXPECT_EQ(batch.get<FieldId::DstAs>(0), 64513u);
    EXPECT_EQ(batch.get<FieldId::Version>(0), version == 2 ? 18 : 20);
    EXPECT_EQ(batch.get<FieldId::Exporter>(0).to_string(), "198.51.100.7");
  }
}

TEST(Sflow, BadInputIsCountedAndDropped) {
  SflowDecoder decoder;
  DecodeStats stats;
  FlowBatch batch;
  Xdr good = v5_header(1, 1, 1);
  good.block(1, v5_flow_sample(1));
  const auto& bytes = good.bytes();
  // Every truncation of a good datagram: no record invented, no crash.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
    EXPECT_EQ(decoder.decode(datagram(cut), stats, batch), 0u) << n;
  }
  EXPECT_EQ(batch.size(), 0u);
  // A sample count that cannot fit is refused before any loop runs.
  Xdr lying = v5_header(2, 2, 0xffffffff);
  EXPECT_EQ(decoder.decode(datagram(lying.bytes()), stats, batch), 0u);
  // An unknown v4 sample type ends the datagram.
  Xdr v4;
  v4.u32(4).u32(1).ipv4(198, 51, 100, 7).u32(1).u32(100).u32(1).u32(9).u32(0);
  EXPECT_EQ(decoder.decode(datagram(v4.bytes()), stats, batch), 0u);
  ExporterStats total = stats.total();
  EXPECT_GT(total.error(DecodeError::TruncatedHeader), 0u);
  EXPECT_GT(total.error(DecodeError::SflowBadSample), 0u);
  EXPECT_EQ(total.error(DecodeError::SflowUnknownFormat), 1u);
  // Still usable afterwards.
  EXPECT_EQ(decoder.decode(datagram(bytes), stats, batch), 1u);
}

// The corpus capture (nDPI's sflow.pcap, v5) against tshark: the flow sample's packet and every
// counter sample's interface counters.
TEST(Sflow, CorpusCaptureMatchesTshark) {
  const auto dir = testing::corpus_dir() / "sflow";
  const auto capture = dir / "nd_sflow.pcap";
  if (!std::filesystem::exists(capture)) GTEST_SKIP() << "corpus not found at " << capture;
  const auto truth = testing::read_csv(dir / "truth" / "nd_sflow.pcap.truth.csv");
  ASSERT_FALSE(truth.empty());

  SflowDecoder decoder;
  DecodeStats stats;
  FlowBatch batch;
  for (const auto& payload : testing::udp_payloads(capture)) {
    decoder.decode(Datagram{payload, IpAddress(), TimeMs()}, stats, batch);
  }
  std::size_t flow_rows = 0;
  std::map<std::uint32_t, nlohmann::json> last_counters;  // ifIndex -> tshark's fields
  for (const auto& row : truth) {
    EXPECT_EQ(row.at("version"), "5");
    if (row.at("kind") == "flow_sample") {
      ASSERT_LT(flow_rows, batch.size());
      EXPECT_EQ(batch.get<FieldId::SrcAddr>(flow_rows).to_string(), row.at("srcaddr"));
      EXPECT_EQ(batch.get<FieldId::DstAddr>(flow_rows).to_string(), row.at("dstaddr"));
      EXPECT_EQ(std::to_string(batch.get<FieldId::Proto>(flow_rows)), row.at("protocol"));
      EXPECT_EQ(batch.get<FieldId::Exporter>(flow_rows).to_string() + "/" +
                    std::to_string(batch.get<FieldId::SourceId>(flow_rows)),
                row.at("domain_id"));
      ++flow_rows;
    } else if (row.at("kind") == "counters_sample") {
      auto fields = nlohmann::json::parse(row.at("all_fields"));
      last_counters[std::stoul(fields.at("sflow_245.ifindex").get<std::string>())] = fields;
    }
  }
  EXPECT_EQ(batch.size(), flow_rows);
  ASSERT_FALSE(last_counters.empty());
  const auto& table = decoder.interface_counters();
  EXPECT_EQ(table.size(), last_counters.size());
  for (const auto& [if_index, fields] : last_counters) {
    auto it = table.find({*IpAddress::parse("172.21.35.17"), if_index});
    ASSERT_NE(it, table.end()) << if_index;
    auto num = [&](const char* key) { return std::stoull(fields.at(key).get<std::string>()); };
    EXPECT_EQ(it->second.in_octets, num("sflow_245.ifinoct")) << if_index;
    EXPECT_EQ(it->second.out_octets, num("sflow_245.ifoutoct")) << if_index;
    EXPECT_EQ(it->second.in_unicast, num("sflow_245.ifinpkt")) << if_index;
    EXPECT_EQ(it->second.if_speed, num("sflow_245.ifspeed")) << if_index;
  }
  EXPECT_EQ(stats.total().dropped, 0u);
}

}  // namespace
}  // namespace flowscope::decode
