#include "decode/netflow_v5.h"

#include <gtest/gtest.h>

#include "decode/flow_decoder.h"
#include "decode/packet_builder.h"

namespace flowscope::decode {
namespace {

using testing::PacketBuilder;

const IpAddress kExporter = IpAddress::v4(0xC0000201);

// One v5 record (48 bytes).
void v5_record(PacketBuilder& b, std::uint32_t first, std::uint32_t last) {
  b.ip4(10, 0, 0, 1).ip4(10, 0, 0, 2).ip4(10, 0, 0, 254);
  b.u16(3).u16(4);                               // input, output ifIndex
  b.u32(7).u32(700);                             // packets, bytes
  b.u32(first).u32(last);                        // sysUpTime at first/last packet
  b.u16(1234).u16(80);                           // ports
  b.u8(0).u8(0x12).u8(6).u8(0x20);               // pad, tcp flags, proto, tos
  b.u16(65001).u16(65002).u8(24).u8(16).u16(0);  // AS, masks, pad
}

PacketBuilder v5_packet(std::uint16_t count, std::uint32_t sequence = 100) {
  PacketBuilder b;
  b.u16(5).u16(count).u32(10'000).u32(1'700'000'000).u32(250'000'000).u32(sequence);
  b.u8(1).u8(2).u16(0x4000 | 100);  // engine type 1, id 2; sampling mode 1, 1 in 100
  for (std::uint16_t i = 0; i < count; ++i) v5_record(b, 4'000, 9'000);
  return b;
}

// Real exporters exceed Cisco's nominal maxima (softflowd: 29 v1 records; 24 documented):
// every record the datagram holds is read, as nfdump and tshark do, and nothing is counted.
TEST(NetflowV5, CountsOverTheNominalMaximumAreRead) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder v1;
  v1.u16(1).u16(29).u32(10'000).u32(1'700'000'000).u32(0);
  for (int i = 0; i < 29; ++i) {
    v1.ip4(10, 0, 0, 1).ip4(10, 0, 0, 2).ip4(0, 0, 0, 0).u16(1).u16(2).u32(1).u32(60);
    v1.u32(9'000).u32(9'500).u16(1000).u16(53);
    v1.u16(0).u8(17).u8(0).u8(0);  // pad, proto@38, tos@39, flags@40
    v1.u8(0).u16(0).u32(0);        // reserved to byte 48
  }
  ASSERT_EQ(v1.size(), 16u + 29u * 48u);
  EXPECT_EQ(decoder.decode({v1.bytes(), kExporter, {}}, batch), 29u);
  EXPECT_EQ(batch.get<FieldId::DstPort>(28), 53u);
  EXPECT_EQ(batch.get<FieldId::Proto>(28), 17u);
  PacketBuilder v5 = v5_packet(35);  // over v5's nominal 30
  EXPECT_EQ(decoder.decode({v5.bytes(), kExporter, {}}, batch), 35u);
  EXPECT_EQ(decoder.stats().total().error(DecodeError::BadRecordCount), 0u);
}

TEST(NetflowV5, DecodesHeaderAndRecords) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = v5_packet(2);
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 2u);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.get<FieldId::SrcAddr>(0), IpAddress::v4(0x0A000001));
  EXPECT_EQ(batch.get<FieldId::DstAddr>(0), IpAddress::v4(0x0A000002));
  EXPECT_EQ(batch.get<FieldId::NextHop>(0), IpAddress::v4(0x0A0000FE));
  EXPECT_EQ(batch.get<FieldId::InIf>(0), 3u);
  EXPECT_EQ(batch.get<FieldId::OutIf>(0), 4u);
  EXPECT_EQ(batch.get<FieldId::FlowPackets>(0), 7u);
  EXPECT_EQ(batch.get<FieldId::FlowBytes>(0), 700u);
  EXPECT_EQ(batch.get<FieldId::SrcPort>(0), 1234);
  EXPECT_EQ(batch.get<FieldId::DstPort>(0), 80);
  EXPECT_EQ(batch.get<FieldId::TcpFlags>(0), 0x12);
  EXPECT_EQ(batch.get<FieldId::Proto>(0), 6);
  EXPECT_EQ(batch.get<FieldId::Tos>(0), 0x20);
  EXPECT_EQ(batch.get<FieldId::SrcAs>(0), 65001u);
  EXPECT_EQ(batch.get<FieldId::DstAs>(0), 65002u);
  EXPECT_EQ(batch.get<FieldId::SrcMask>(0), 24);
  EXPECT_EQ(batch.get<FieldId::DstMask>(0), 16);
  EXPECT_EQ(batch.get<FieldId::Sampling>(0), 100u);
  EXPECT_EQ(batch.get<FieldId::SourceId>(0), 0x0102u);
  EXPECT_EQ(batch.get<FieldId::Version>(0), 5);
  EXPECT_EQ(batch.get<FieldId::Exporter>(0), kExporter);
  // export 1.7e9 s + 250 ms, uptime 10 s: first at uptime 4 s is 6 s earlier.
  EXPECT_EQ(batch.get<FieldId::First>(0), 1'700'000'000'250 - 6'000);
  EXPECT_EQ(batch.get<FieldId::Last>(0), 1'700'000'000'250 - 1'000);
  EXPECT_EQ(decoder.stats().total().records, 2u);
}

TEST(NetflowV5, UptimeWrapKeepsTimesBeforeExport) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b;
  b.u16(5).u16(1).u32(3'381).u32(1'430'591'888).u32(0).u32(0).u32(0);
  v5_record(b, 0xFFFFFFFF, 2'577);  // first packet 1 ms before the uptime counter wrapped
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::First>(0), 1'430'591'888'000 - 3'382);
}

TEST(NetflowV5, V1AndV7ShareTheRecordDecoder) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder v1;
  v1.u16(1).u16(1).u32(10'000).u32(1'700'000'000).u32(0);
  v1.ip4(1, 1, 1, 1).ip4(2, 2, 2, 2).ip4(0, 0, 0, 0).u16(1).u16(2).u32(3).u32(4);
  v1.u32(5'000).u32(6'000).u16(53).u16(5353).u16(0).u8(17).u8(0).u8(0).zeros(7);
  ASSERT_EQ(decoder.decode({v1.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::Proto>(0), 17);
  EXPECT_EQ(batch.get<FieldId::SrcPort>(0), 53);
  EXPECT_EQ(batch.get<FieldId::Version>(0), 1);
  EXPECT_FALSE(batch.is_set(FieldId::SrcAs, 0));

  PacketBuilder v7;
  v7.u16(7).u16(1).u32(10'000).u32(1'700'000'000).u32(0).u32(1).u32(0);
  v5_record(v7, 4'000, 9'000);
  v7.u32(0x0A0A0A0A);  // router_sc: v7 records are 52 bytes
  ASSERT_EQ(decoder.decode({v7.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::Version>(1), 7);
  EXPECT_EQ(batch.get<FieldId::SrcAs>(1), 65001u);
}

// F16: the count is a claim. A count past the datagram's end keeps the records that fit (as
// nfdump and tshark read them) and is counted; a count of 0 or a short header appends nothing.
TEST(NetflowV5, BadCountsAreCountedAndKeepWhatFits) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder zero = v5_packet(0);
  PacketBuilder too_many = v5_packet(2);
  too_many.patch16(2, 31);  // claims 31, holds 2
  PacketBuilder cut = v5_packet(2);
  cut.bytes().resize(cut.size() - 1);  // the second record is one byte short
  PacketBuilder header_only = v5_packet(1);
  header_only.bytes().resize(20);
  EXPECT_EQ(decoder.decode({zero.bytes(), kExporter, {}}, batch), 0u);
  EXPECT_EQ(decoder.decode({too_many.bytes(), kExporter, {}}, batch), 2u);
  EXPECT_EQ(decoder.decode({cut.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(decoder.decode({header_only.bytes(), kExporter, {}}, batch), 0u);
  EXPECT_EQ(batch.size(), 3u);
  const ExporterStats s = decoder.stats().total();
  EXPECT_EQ(s.error(DecodeError::BadRecordCount), 3u);
  EXPECT_EQ(s.error(DecodeError::TruncatedHeader), 1u);
  // Still usable.
  PacketBuilder good = v5_packet(1);
  EXPECT_EQ(decoder.decode({good.bytes(), kExporter, {}}, batch), 1u);
}

TEST(NetflowV5, SequenceGapsAndRestartsAreCounted) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder a = v5_packet(2, 100);
  PacketBuilder b = v5_packet(2, 102);  // expected: 100 + 2
  PacketBuilder c = v5_packet(2, 110);  // 6 flows lost
  (void)decoder.decode({a.bytes(), kExporter, {}}, batch);
  (void)decoder.decode({b.bytes(), kExporter, {}}, batch);
  (void)decoder.decode({c.bytes(), kExporter, {}}, batch);
  EXPECT_EQ(decoder.stats().total().sequence_gaps, 1u);
  PacketBuilder restarted = v5_packet(1, 0);
  restarted.patch16(4, 0).patch16(6, 5);  // sysUpTime 5 ms: the exporter rebooted
  (void)decoder.decode({restarted.bytes(), kExporter, {}}, batch);
  EXPECT_EQ(decoder.stats().total().restarts, 1u);
}

TEST(FlowDecoder, UnknownVersionsAndRuntsAreCounted) {
  FlowDecoder decoder;
  FlowBatch batch;
  const std::vector<std::byte> v8 = {std::byte{0}, std::byte{8}, std::byte{0}, std::byte{1}};
  const std::vector<std::byte> runt = {std::byte{0}, std::byte{5}};
  const std::vector<std::byte> sflow_runt = {std::byte{0}, std::byte{0}, std::byte{0},
                                             std::byte{5}};
  const std::vector<std::byte> sflow_v3 = {std::byte{0}, std::byte{0}, std::byte{0},
                                           std::byte{3}, std::byte{0}, std::byte{0}};
  EXPECT_EQ(decoder.decode({v8, kExporter, {}}, batch), 0u);
  EXPECT_EQ(decoder.decode({runt, kExporter, {}}, batch), 0u);
  EXPECT_EQ(decoder.decode({sflow_runt, kExporter, {}}, batch), 0u);
  EXPECT_EQ(decoder.decode({sflow_v3, kExporter, {}}, batch), 0u);
  const ExporterStats s = decoder.stats().total();
  EXPECT_EQ(s.error(DecodeError::UnsupportedVersion), 2u);  // NetFlow v8, sFlow v3
  EXPECT_EQ(s.error(DecodeError::TruncatedHeader), 2u);
  EXPECT_EQ(s.packets, 4u);
}

struct FakeSflow : DatagramDecoder {
  std::size_t decode(const Datagram&, DecodeStats&, FlowBatch& batch) override {
    batch.set<FieldId::Version>(batch.add_row(), 21);
    return 1;
  }
};

TEST(FlowDecoder, SflowPlugsInOnAZeroVersionWord) {
  FlowDecoder decoder;
  decoder.set_sflow_decoder(std::make_unique<FakeSflow>());
  FlowBatch batch;
  const std::vector<std::byte> sflow = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{5}};
  EXPECT_EQ(decoder.decode({sflow, kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::Version>(0), 21);
}

}  // namespace
}  // namespace flowscope::decode
