#include "decode/netflow_v9.h"

#include <gtest/gtest.h>

#include "decode/flow_decoder.h"
#include "decode/packet_builder.h"

namespace flowscope::decode {
namespace {

using testing::PacketBuilder;
using testing::v9_header;

const IpAddress kExporter = IpAddress::v4(0xC0000202);

// Template 256: src/dst IPv4, ports, proto, bytes (reduced to 2 bytes), first/last uptime,
// flowSamplerID.
void add_template_256(PacketBuilder& b) {
  b.set_begin(0).u16(256).u16(9);
  b.u16(8).u16(4).u16(12).u16(4).u16(7).u16(2).u16(11).u16(2).u16(4).u16(1);
  b.u16(1).u16(2).u16(22).u16(4).u16(21).u16(4).u16(48).u16(1);
  b.set_end();
}

void add_data_256(PacketBuilder& b, int records, std::size_t padding = 0) {
  b.set_begin(256);
  for (int i = 0; i < records; ++i) {
    b.ip4(10, 1, 1, static_cast<std::uint8_t>(i)).ip4(10, 2, 2, 2).u16(5000).u16(443).u8(6);
    b.u16(1500).u32(50'000).u32(59'000).u8(3);
  }
  b.zeros(padding);
  b.set_end();
}

TEST(NetflowV9, TemplateThenDataInOnePacket) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = v9_header(60'000, 1'700'000'000, 1, 7);
  add_template_256(b);
  add_data_256(b, 2, 3);  // 3 bytes of padding: shorter than a record (RFC 3954 §5.3)
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 2u);
  EXPECT_EQ(batch.get<FieldId::SrcAddr>(1), IpAddress::v4(0x0A010101));
  EXPECT_EQ(batch.get<FieldId::DstPort>(0), 443);
  EXPECT_EQ(batch.get<FieldId::FlowBytes>(0), 1500u);
  EXPECT_EQ(batch.get<FieldId::First>(0), 1'700'000'000'000 - 10'000);
  EXPECT_EQ(batch.get<FieldId::Last>(0), 1'700'000'000'000 - 1'000);
  EXPECT_EQ(batch.get<FieldId::SourceId>(0), 7u);
  EXPECT_EQ(batch.get<FieldId::Version>(0), 9);
  const ExporterStats s = decoder.stats().total();
  EXPECT_EQ(s.templates, 1u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(NetflowV9, SamplerOptionsFillSampling) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = v9_header(60'000, 1'700'000'000, 1, 7);
  add_template_256(b);
  // RFC 3954 §6.1 options template 300: scope System (4 bytes); FLOW_SAMPLER_ID (1),
  // SAMPLING_INTERVAL (4), then 2 bytes of padding.
  b.set_begin(1).u16(300).u16(4).u16(8).u16(1).u16(4).u16(48).u16(1).u16(34).u16(4).u16(0);
  b.set_end();
  b.set_begin(300).u32(0).u8(3).u32(512).zeros(3).set_end();
  add_data_256(b, 1);
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::Sampling>(0), 512u);
  EXPECT_EQ(decoder.stats().total().options_templates, 1u);
  EXPECT_EQ(decoder.stats().total().options_records, 1u);
}

TEST(NetflowV9, DataBeforeTemplateIsBufferedThenDecoded) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder data = v9_header(60'000, 1'700'000'000, 1, 7);
  add_data_256(data, 3);
  EXPECT_EQ(decoder.decode({data.bytes(), kExporter, {}}, batch), 0u);
  EXPECT_EQ(decoder.templates().pending_sets(), 1u);
  PacketBuilder tpl = v9_header(61'000, 1'700'000'001, 2, 7);
  add_template_256(tpl);
  EXPECT_EQ(decoder.decode({tpl.bytes(), kExporter, {}}, batch), 3u);
  // Times use the header of the packet that carried the data.
  EXPECT_EQ(batch.get<FieldId::First>(0), 1'700'000'000'000 - 10'000);
  const ExporterStats s = decoder.stats().total();
  EXPECT_EQ(s.sets_buffered, 1u);
  EXPECT_EQ(s.sets_replayed, 1u);
  EXPECT_EQ(s.error(DecodeError::UnknownTemplate), 0u);
}

TEST(NetflowV9, PendingBufferIsBoundedAndEvictionsCounted) {
  DecoderConfig config;
  config.engine.limits.pending_max_sets = 2;
  FlowDecoder decoder(config);
  FlowBatch batch;
  for (std::uint32_t source = 0; source < 5; ++source) {
    PacketBuilder data = v9_header(60'000, 1'700'000'000, 1, source);
    add_data_256(data, 1);
    (void)decoder.decode({data.bytes(), kExporter, {}}, batch);
  }
  EXPECT_EQ(decoder.templates().pending_sets(), 2u);
  EXPECT_EQ(decoder.stats().total().sets_evicted, 3u);
  decoder.finish();
  EXPECT_EQ(decoder.templates().pending_sets(), 0u);
  EXPECT_EQ(decoder.stats().total().error(DecodeError::UnknownTemplate), 5u);
  EXPECT_EQ(batch.size(), 0u);
}

TEST(NetflowV9, TemplatesAreKeyedBySourceIdAndExporter) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder tpl = v9_header(60'000, 1'700'000'000, 1, 7);
  add_template_256(tpl);
  (void)decoder.decode({tpl.bytes(), kExporter, {}}, batch);
  PacketBuilder other_source = v9_header(60'000, 1'700'000'000, 2, 8);
  add_data_256(other_source, 1);
  EXPECT_EQ(decoder.decode({other_source.bytes(), kExporter, {}}, batch), 0u);
  PacketBuilder other_exporter = v9_header(60'000, 1'700'000'000, 2, 7);
  add_data_256(other_exporter, 1);
  EXPECT_EQ(decoder.decode({other_exporter.bytes(), IpAddress::v4(1), {}}, batch), 0u);
  EXPECT_EQ(decoder.templates().pending_sets(), 2u);
}

TEST(NetflowV9, MalformedFlowsetsAreCountedByKind) {
  FlowDecoder decoder;
  FlowBatch batch;
  auto decode = [&](const PacketBuilder& b) {
    return decoder.decode({b.bytes(), kExporter, {}}, batch);
  };
  PacketBuilder short_header = v9_header(1, 1, 1, 1);
  short_header.bytes().resize(19);
  EXPECT_EQ(decode(short_header), 0u);

  PacketBuilder too_short = v9_header(1, 1, 1, 1);
  too_short.u16(256).u16(2).u32(0xDEADBEEF);  // flowset length 2 < its own header
  EXPECT_EQ(decode(too_short), 0u);

  PacketBuilder overrun = v9_header(1, 1, 1, 1);
  overrun.u16(256).u16(400).u32(0);
  EXPECT_EQ(decode(overrun), 0u);

  PacketBuilder reserved = v9_header(1, 1, 1, 1);
  reserved.set_begin(5).u32(0).set_end();
  EXPECT_EQ(decode(reserved), 0u);

  PacketBuilder empty_template = v9_header(1, 1, 1, 1);
  empty_template.set_begin(0).u16(257).u16(0).set_end();
  EXPECT_EQ(decode(empty_template), 0u);

  PacketBuilder zero_length = v9_header(1, 1, 1, 1);  // every field 0 bytes: a record of 0
  zero_length.set_begin(0).u16(258).u16(2).u16(8).u16(0).u16(12).u16(0).set_end();
  zero_length.set_begin(258).u32(0).set_end();
  EXPECT_EQ(decode(zero_length), 0u);

  PacketBuilder template_cut = v9_header(1, 1, 1, 1);
  template_cut.set_begin(0).u16(259).u16(50).u16(8).u16(4).set_end();
  EXPECT_EQ(decode(template_cut), 0u);

  const ExporterStats s = decoder.stats().total();
  EXPECT_EQ(s.error(DecodeError::TruncatedHeader), 1u);
  EXPECT_EQ(s.error(DecodeError::SetTooShort), 1u);
  EXPECT_EQ(s.error(DecodeError::SetLengthOverrun), 1u);
  EXPECT_EQ(s.error(DecodeError::BadSetId), 1u);
  EXPECT_EQ(s.error(DecodeError::BadTemplate), 2u);
  EXPECT_EQ(s.error(DecodeError::BadTemplateField), 1u);
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(decoder.templates().template_count(), 0u);

  // Still usable.
  PacketBuilder good = v9_header(60'000, 1'700'000'000, 9, 1);
  add_template_256(good);
  add_data_256(good, 1);
  EXPECT_EQ(decode(good), 1u);
}

TEST(NetflowV9, ZeroLengthFieldsAreSkipped) {
  // ls_netflow9_0length_fields: type 0 length 0 fields beside real ones are no-ops.
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = v9_header(60'000, 1'700'000'000, 1, 1);
  b.set_begin(0).u16(260).u16(3).u16(8).u16(4).u16(0).u16(0).u16(12).u16(4).set_end();
  b.set_begin(260).ip4(1, 2, 3, 4).ip4(5, 6, 7, 8).set_end();
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::DstAddr>(0), IpAddress::v4(0x05060708));
}

}  // namespace
}  // namespace flowscope::decode
