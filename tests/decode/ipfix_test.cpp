#include "decode/ipfix.h"

#include <tuple>

#include <gtest/gtest.h>

#include "decode/flow_decoder.h"
#include "decode/packet_builder.h"

namespace flowscope::decode {
namespace {

using testing::ipfix_header;
using testing::PacketBuilder;

const IpAddress kExporter = IpAddress::v4(0xC0000203);

// Template 400: sourceIPv6Address, destinationIPv6Address, an enterprise element (PEN 6871,
// 4 bytes), applicationId (variable), octetDeltaCount (8), flowStartMilliseconds,
// flowEndMicroseconds, an unknown IETF element (999, variable).
void add_template_400(PacketBuilder& b) {
  b.set_begin(2).u16(400).u16(8);
  b.u16(27).u16(16).u16(28).u16(16);
  b.u16(0x8000 | 21).u16(4).u32(6871);
  b.u16(95).u16(0xFFFF).u16(1).u16(8).u16(152).u16(8).u16(155).u16(8).u16(999).u16(0xFFFF);
  b.set_end();
}

void add_record_400(PacketBuilder& b, std::size_t unknown_length) {
  b.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  b.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  b.u32(0xAAAAAAAA);
  b.u8(4).u8(13).u8(0).u8(0).u8(80);  // applicationId: engine 13, selector 80
  b.u64(123456789);
  b.u64(1'700'000'000'123);
  // NTP time (RFC 7011 §6.1.9): 1.7e9 s after the Unix epoch plus half a second.
  b.u32(1'700'000'000u + 2'208'988'800u).u32(0x80000000u);
  if (unknown_length < 255) {
    b.u8(static_cast<std::uint32_t>(unknown_length));
  } else {
    b.u8(255).u16(static_cast<std::uint32_t>(unknown_length));  // RFC 7011 §7 long form
  }
  b.zeros(unknown_length);
}

TEST(Ipfix, VariableLengthAndEnterpriseElements) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = ipfix_header(1'700'000'100, 0, 42);
  add_template_400(b);
  b.set_begin(400);
  add_record_400(b, 3);
  add_record_400(b, 300);
  b.zeros(2);  // set padding
  b.set_end().finish_ipfix();
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 2u);
  EXPECT_EQ(batch.get<FieldId::SrcAddr>(0).to_string(), "2001:db8::1");
  EXPECT_EQ(batch.get<FieldId::DstAddr>(1).to_string(), "2001:db8::2");
  EXPECT_EQ(batch.get<FieldId::Application>(0), "13:80");
  EXPECT_EQ(batch.get<FieldId::FlowBytes>(1), 123456789u);
  EXPECT_EQ(batch.get<FieldId::First>(0), 1'700'000'000'123);
  EXPECT_EQ(batch.get<FieldId::Last>(0), 1'700'000'000'500);
  EXPECT_EQ(batch.get<FieldId::Version>(0), 10);
  EXPECT_EQ(batch.get<FieldId::SourceId>(0), 42u);
  const ExporterStats s = decoder.stats().total();
  EXPECT_EQ(s.enterprise_elements, 1u);
  EXPECT_EQ(s.unknown_elements, 1u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(Ipfix, MplsTopLabelStackSectionKeepsTheLabel) {
  // Template 401: sourceIPv4Address, destinationIPv4Address, mplsTopLabelStackSection (IE 70,
  // 3 bytes: label 20 bits, traffic class 3, bottom of stack 1). The registry's worked example
  // (docs/architecture.md "The field registry").
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = ipfix_header(1'700'000'100, 0, 42);
  b.set_begin(2).u16(401).u16(3);
  b.u16(8).u16(4).u16(12).u16(4).u16(70).u16(3);
  b.set_end();
  b.set_begin(401);
  b.raw({10, 0, 0, 1}).raw({10, 0, 0, 2});
  b.raw({0x00, 0x3E, 0x85});  // label 1000, traffic class 2, bottom of stack
  b.set_end().finish_ipfix();
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::MplsLabel>(0), 1000u);
  EXPECT_EQ(batch.get<FieldId::SrcAddr>(0).to_string(), "10.0.0.1");
}

TEST(Ipfix, VariableLengthPastTheRecordIsCounted) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = ipfix_header(1'700'000'100, 0, 42);
  add_template_400(b);
  b.set_begin(400);
  add_record_400(b, 3);
  b.bytes().pop_back();  // the last variable field claims 3 bytes, 1 is there
  b.bytes().pop_back();
  b.set_end().finish_ipfix();
  EXPECT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 0u);
  EXPECT_EQ(decoder.stats().total().error(DecodeError::BadVariableLength), 1u);
}

// Template 500: sourceIPv4Address, packetDeltaCount (reduced to 1 byte), flowEndSysUpTime, and
// an options template carrying systemInitTimeMilliseconds.
void add_template_500(PacketBuilder& b) {
  b.set_begin(2).u16(500).u16(3).u16(8).u16(4).u16(2).u16(1).u16(21).u16(4).set_end();
}

TEST(Ipfix, UptimeTimesUseSystemInitTimeFromOptions) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = ipfix_header(1'600'000'100, 0, 1);
  add_template_500(b);
  // RFC 7011 §3.4.2.2: options template 501, 2 fields, 1 scope field (observationDomainId).
  b.set_begin(3).u16(501).u16(2).u16(1).u16(149).u16(4).u16(160).u16(8).set_end();
  b.set_begin(501).u32(1).u64(1'600'000'000'000).set_end();
  b.set_begin(500).ip4(192, 0, 2, 9).u8(5).u32(1'000).set_end();
  b.finish_ipfix();
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::FlowPackets>(0), 5u);
  EXPECT_EQ(batch.get<FieldId::Last>(0), 1'600'000'001'000);
  EXPECT_FALSE(batch.is_set(FieldId::First, 0));
}

// softflowd reading an older pcap: the flow ended 5 s before the exporter's systemInitTime, so
// its flowEndSysUpTime is 2^32 - 5000. It is read modulo 2^32 against the export time (as v9's
// sysUpTime), not as 49.7 days after the init time, and counted as an uptime wrap. An exporter
// up for longer than 2^32 ms (its uptime counter wrapped) is read the same way.
TEST(Ipfix, UptimeJustBelowTwoToThe32IsBeforeSystemInit) {
  constexpr std::int64_t kInit = 1'600'000'000'000;
  for (const auto& [export_secs, uptime, want] :
       {std::tuple{std::uint32_t{1'600'000'010}, std::uint32_t{0xFFFFFFFFu - 4'999}, kInit - 5'000},
        // Up 60 days at export (past 2^32 ms): an uptime of 1000 is 60 d - 2^32 ms + 1 s in.
        std::tuple{static_cast<std::uint32_t>(kInit / 1000 + 60 * 86'400), std::uint32_t{1'000},
                   kInit + (std::int64_t{1} << 32) + 1'000}}) {
    FlowDecoder decoder;
    FlowBatch batch;
    PacketBuilder b = ipfix_header(export_secs, 0, 1);
    add_template_500(b);
    b.set_begin(3).u16(501).u16(2).u16(1).u16(149).u16(4).u16(160).u16(8).set_end();
    b.set_begin(501).u32(1).u64(static_cast<std::uint64_t>(kInit)).set_end();
    b.set_begin(500).ip4(192, 0, 2, 9).u8(5).u32(uptime).set_end();
    b.finish_ipfix();
    ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 1u);
    EXPECT_EQ(batch.get<FieldId::Last>(0), want) << "export " << export_secs;
    EXPECT_EQ(decoder.stats().total().uptime_wraps, 1u);
  }
  // No wrap: counted nowhere.
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = ipfix_header(1'600'000'100, 0, 1);
  add_template_500(b);
  b.set_begin(3).u16(501).u16(2).u16(1).u16(149).u16(4).u16(160).u16(8).set_end();
  b.set_begin(501).u32(1).u64(static_cast<std::uint64_t>(kInit)).set_end();
  b.set_begin(500).ip4(192, 0, 2, 9).u8(5).u32(99'000).set_end();
  b.finish_ipfix();
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::Last>(0), kInit + 99'000);
  EXPECT_EQ(decoder.stats().total().uptime_wraps, 0u);
}

TEST(Ipfix, WithdrawalRemovesTheTemplate) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder t = ipfix_header(1, 0, 1);
  add_template_500(t);
  t.finish_ipfix();
  (void)decoder.decode({t.bytes(), kExporter, {}}, batch);
  ASSERT_EQ(decoder.templates().template_count(), 1u);
  // RFC 7011 §8.1: a template record with field count 0.
  PacketBuilder w = ipfix_header(2, 0, 1);
  w.set_begin(2).u16(500).u16(0).set_end().finish_ipfix();
  (void)decoder.decode({w.bytes(), kExporter, {}}, batch);
  EXPECT_EQ(decoder.templates().template_count(), 0u);
  EXPECT_EQ(decoder.stats().total().withdrawals, 1u);
  PacketBuilder d = ipfix_header(3, 0, 1);
  d.set_begin(500).ip4(192, 0, 2, 9).u8(5).u32(1'000).set_end().finish_ipfix();
  EXPECT_EQ(decoder.decode({d.bytes(), kExporter, {}}, batch), 0u);
  decoder.finish();
  EXPECT_EQ(decoder.stats().total().error(DecodeError::UnknownTemplate), 1u);

  // Withdraw-all (template id 2, count 0).
  (void)decoder.decode({t.bytes(), kExporter, {}}, batch);
  PacketBuilder all = ipfix_header(4, 0, 1);
  all.set_begin(2).u16(2).u16(0).set_end().finish_ipfix();
  (void)decoder.decode({all.bytes(), kExporter, {}}, batch);
  EXPECT_EQ(decoder.templates().template_count(), 0u);
}

TEST(Ipfix, MessageLengthAndSetIdsAreChecked) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder longer = ipfix_header(1, 0, 1);
  add_template_500(longer);
  longer.finish_ipfix();
  longer.patch16(2, longer.size() + 10);  // claims more than the datagram holds
  EXPECT_EQ(decoder.decode({longer.bytes(), kExporter, {}}, batch), 0u);
  PacketBuilder reserved = ipfix_header(1, 0, 1);
  reserved.set_begin(4).u32(0).set_end().finish_ipfix();
  EXPECT_EQ(decoder.decode({reserved.bytes(), kExporter, {}}, batch), 0u);
  PacketBuilder no_scope = ipfix_header(1, 0, 1);  // options template with 0 scope fields
  no_scope.set_begin(3).u16(502).u16(1).u16(0).u16(160).u16(8).set_end().finish_ipfix();
  EXPECT_EQ(decoder.decode({no_scope.bytes(), kExporter, {}}, batch), 0u);
  PacketBuilder cut_template = ipfix_header(1, 0, 1);  // 3 fields announced, 1 present
  cut_template.set_begin(2).u16(503).u16(3).u16(8).u16(4).set_end().finish_ipfix();
  EXPECT_EQ(decoder.decode({cut_template.bytes(), kExporter, {}}, batch), 0u);
  PacketBuilder garbage = ipfix_header(1, 0, 1);
  add_template_500(garbage);
  garbage.u8(0xFF).u8(0xFF).finish_ipfix();
  EXPECT_EQ(decoder.decode({garbage.bytes(), kExporter, {}}, batch), 0u);
  const ExporterStats s = decoder.stats().total();
  EXPECT_EQ(s.error(DecodeError::LengthMismatch), 1u);
  EXPECT_EQ(s.error(DecodeError::BadSetId), 1u);
  EXPECT_EQ(s.error(DecodeError::BadTemplate), 2u);
  EXPECT_EQ(s.error(DecodeError::TrailingGarbage), 1u);
}

}  // namespace
}  // namespace flowscope::decode
