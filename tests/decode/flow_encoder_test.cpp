// Round trips: FlowBatch -> encoder -> FlowDecoder -> the same values, for every field each
// format carries; plus MTU, sequence numbers, template refresh, restarts and withdrawals.
#include "decode/flow_encoder.h"

#include <gtest/gtest.h>

#include "decode/flow_decoder.h"
#include "decode/sflow_encoder.h"

namespace flowscope::decode {
namespace {

const IpAddress kExporter = IpAddress::v4(0xC0000205);
const TimeMs kBoot = time_from_ms(1'790'000'000'000);
const TimeMs kNow = time_from_ms(1'790'000'123'456);

IpAddress v6(std::uint64_t low) { return IpAddress::from_u64(0x20010db800000000ULL, low); }

// Varied rows: IPv4 and IPv6, TCP, UDP and ICMP, distinct values in every column.
FlowBatch sample_batch(std::size_t rows) {
  FlowBatch b;
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t r = b.add_row();
    const bool ipv6 = i % 5 == 4;
    const auto n = static_cast<std::uint32_t>(i);
    b.set<FieldId::SrcAddr>(r, ipv6 ? v6(0x100 + i) : IpAddress::v4(0x0A000001 + n));
    b.set<FieldId::DstAddr>(r, ipv6 ? v6(0x200 + i) : IpAddress::v4(0xC6120001 + n));
    b.set<FieldId::NextHop>(r, ipv6 ? v6(1) : IpAddress::v4(0x0A0000FE));
    const std::uint8_t proto = i % 7 == 3 ? 17 : i % 11 == 5 ? 1 : 6;
    b.set<FieldId::Proto>(r, proto);
    b.set<FieldId::SrcPort>(r, static_cast<std::uint16_t>(proto == 1 ? 0 : 49152 + i));
    b.set<FieldId::DstPort>(r, static_cast<std::uint16_t>(proto == 1 ? 0x0800 : 443));
    b.set<FieldId::Tos>(r, static_cast<std::uint8_t>(i % 4 * 8));
    b.set<FieldId::TcpFlags>(r, proto == 6 ? 0x1b : 0);
    b.set<FieldId::InIf>(r, 1 + n % 2);
    b.set<FieldId::OutIf>(r, 2 - n % 2);
    b.set<FieldId::FlowPackets>(r, 3 + i);
    b.set<FieldId::FlowBytes>(r, (3 + i) * (100 + i));
    b.set<FieldId::First>(r, to_ms(kNow) - 5000 - static_cast<std::int64_t>(i));
    b.set<FieldId::Last>(r, to_ms(kNow) - 1000 + static_cast<std::int64_t>(i));
    b.set<FieldId::SrcAs>(r, 64512 + n);
    b.set<FieldId::DstAs>(r, 65000 + n);
    b.set<FieldId::SrcMask>(r, ipv6 ? 48 : 24);
    b.set<FieldId::DstMask>(r, ipv6 ? 64 : 16);
    b.set<FieldId::SrcVlan>(r, static_cast<std::uint16_t>(10 + i % 3));
    b.set<FieldId::Direction>(r, static_cast<std::uint8_t>(i % 2));
  }
  return b;
}

struct Decoded {
  FlowBatch batch;
  ExporterStats stats;
  std::size_t datagrams = 0;
  std::size_t max_size = 0;
};

Decoded round_trip(FlowEncoder& encoder, const FlowBatch& in, const IpAddress& stats_key) {
  DatagramBuffer out;
  EXPECT_EQ(encoder.encode(in, 0, in.size(), kNow, out) + encoder.skipped(), in.size());
  FlowDecoder decoder;
  Decoded d;
  for (std::size_t i = 0; i < out.size(); ++i) {
    d.max_size = std::max(d.max_size, out.at(i).size());
    decoder.decode({out.at(i), kExporter, kNow}, d.batch);
  }
  decoder.finish();
  d.datagrams = out.size();
  d.stats = decoder.stats().exporters().at(stats_key);
  return d;
}

template <FieldId F>
void expect_same(const FlowBatch& a, std::size_t ra, const FlowBatch& b, std::size_t rb) {
  EXPECT_EQ(a.get<F>(ra), b.get<F>(rb)) << field_info(F).name << " of row " << ra;
}

// The fields NetFlow v5 and the v9/IPFIX templates both carry.
void expect_common(const FlowBatch& in, std::size_t ri, const FlowBatch& out, std::size_t ro) {
  expect_same<FieldId::SrcAddr>(in, ri, out, ro);
  expect_same<FieldId::DstAddr>(in, ri, out, ro);
  expect_same<FieldId::NextHop>(in, ri, out, ro);
  expect_same<FieldId::SrcPort>(in, ri, out, ro);
  expect_same<FieldId::DstPort>(in, ri, out, ro);
  expect_same<FieldId::Proto>(in, ri, out, ro);
  expect_same<FieldId::Tos>(in, ri, out, ro);
  expect_same<FieldId::TcpFlags>(in, ri, out, ro);
  expect_same<FieldId::InIf>(in, ri, out, ro);
  expect_same<FieldId::OutIf>(in, ri, out, ro);
  expect_same<FieldId::FlowPackets>(in, ri, out, ro);
  expect_same<FieldId::FlowBytes>(in, ri, out, ro);
  expect_same<FieldId::First>(in, ri, out, ro);
  expect_same<FieldId::Last>(in, ri, out, ro);
  expect_same<FieldId::SrcAs>(in, ri, out, ro);
  expect_same<FieldId::DstAs>(in, ri, out, ro);
  expect_same<FieldId::SrcMask>(in, ri, out, ro);
  expect_same<FieldId::DstMask>(in, ri, out, ro);
}

void expect_clean(const ExporterStats& s) {
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.sequence_gaps, 0u);
  EXPECT_EQ(s.restarts, 0u);
  EXPECT_EQ(s.unknown_elements, 0u);
}

TEST(FlowEncoder, NetflowV5RoundTrip) {
  const FlowBatch in = sample_batch(100);
  ExporterConfig config{.source_id = 0x0102, .sampling = 100, .mtu = 1400};
  auto encoder = make_encoder(ExportFormat::NetflowV5, config, kBoot);
  Decoded d = round_trip(*encoder, in, kExporter);
  EXPECT_EQ(encoder->skipped(), 20u);  // every fifth row is IPv6
  ASSERT_EQ(d.batch.size(), 80u);
  EXPECT_LE(d.max_size, 1400u);
  expect_clean(d.stats);
  std::size_t ro = 0;
  for (std::size_t ri = 0; ri < in.size(); ++ri) {
    if (ri % 5 == 4) continue;
    expect_common(in, ri, d.batch, ro);
    EXPECT_EQ(d.batch.get<FieldId::Sampling>(ro), 100u);
    EXPECT_EQ(d.batch.get<FieldId::SourceId>(ro), 0x0102u);
    EXPECT_EQ(d.batch.get<FieldId::Version>(ro), 5);
    ++ro;
  }
}

void template_round_trip(ExportFormat format, std::uint8_t version) {
  const FlowBatch in = sample_batch(300);
  ExporterConfig config{.source_id = 77, .sampling = 64, .mtu = 1400, .refresh_every = 3};
  auto encoder = make_encoder(format, config, kBoot);
  Decoded d = round_trip(*encoder, in, kExporter);
  ASSERT_EQ(d.batch.size(), in.size());
  EXPECT_LE(d.max_size, 1400u);
  EXPECT_GT(d.datagrams, 10u);
  expect_clean(d.stats);
  // Sent in the first datagram and every third one after: two data templates each time.
  EXPECT_EQ(d.stats.templates, 2 * ((d.datagrams + 2) / 3));
  EXPECT_EQ(d.stats.options_records, (d.datagrams + 2) / 3);
  for (std::size_t row = 0; row < in.size(); ++row) {
    expect_common(in, row, d.batch, row);
    expect_same<FieldId::SrcVlan>(in, row, d.batch, row);
    expect_same<FieldId::Direction>(in, row, d.batch, row);
    EXPECT_EQ(d.batch.get<FieldId::Sampling>(row), 64u);
    EXPECT_EQ(d.batch.get<FieldId::SourceId>(row), 77u);
    EXPECT_EQ(d.batch.get<FieldId::Version>(row), version);
  }
}

TEST(FlowEncoder, NetflowV9RoundTrip) {
  ASSERT_NO_FATAL_FAILURE(template_round_trip(ExportFormat::NetflowV9, 9));
}
TEST(FlowEncoder, IpfixRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(template_round_trip(ExportFormat::Ipfix, 10));
}

TEST(FlowEncoder, SflowRoundTrip) {
  const FlowBatch in = sample_batch(120);
  const IpAddress agent = IpAddress::v4(0xC0000209);
  ExporterConfig config{
      .source_id = 3, .agent = agent, .sampling = 512, .mtu = 1400, .refresh_every = 2};
  auto encoder = make_encoder(ExportFormat::Sflow, config, kBoot);
  Decoded d = round_trip(*encoder, in, agent);
  ASSERT_EQ(d.batch.size(), in.size());
  EXPECT_LE(d.max_size, 1400u);
  expect_clean(d.stats);
  EXPECT_GT(d.stats.counter_samples, 0u);
  for (std::size_t row = 0; row < in.size(); ++row) {
    expect_same<FieldId::SrcAddr>(in, row, d.batch, row);
    expect_same<FieldId::DstAddr>(in, row, d.batch, row);
    expect_same<FieldId::NextHop>(in, row, d.batch, row);
    expect_same<FieldId::SrcPort>(in, row, d.batch, row);
    expect_same<FieldId::DstPort>(in, row, d.batch, row);
    expect_same<FieldId::Proto>(in, row, d.batch, row);
    expect_same<FieldId::Tos>(in, row, d.batch, row);
    expect_same<FieldId::TcpFlags>(in, row, d.batch, row);
    expect_same<FieldId::InIf>(in, row, d.batch, row);
    expect_same<FieldId::OutIf>(in, row, d.batch, row);
    expect_same<FieldId::SrcAs>(in, row, d.batch, row);
    expect_same<FieldId::DstAs>(in, row, d.batch, row);
    expect_same<FieldId::SrcMask>(in, row, d.batch, row);
    expect_same<FieldId::DstMask>(in, row, d.batch, row);
    expect_same<FieldId::SrcVlan>(in, row, d.batch, row);
    // One sampled packet of the record's average size stands for `rate` packets.
    EXPECT_EQ(d.batch.get<FieldId::FlowPackets>(row), 512u);
    EXPECT_EQ(d.batch.get<FieldId::FlowBytes>(row),
              std::uint64_t{SflowEncoder::sampled_ip_length(in, row)} * 512);
    EXPECT_EQ(d.batch.get<FieldId::Sampling>(row), 512u);
    EXPECT_EQ(d.batch.get<FieldId::SourceId>(row), 3u);
    EXPECT_EQ(d.batch.get<FieldId::Exporter>(row), agent);
    EXPECT_EQ(d.batch.get<FieldId::Version>(row), 21);
  }
}

TEST(FlowEncoder, RestartIsSeenByTheDecoder) {
  for (ExportFormat format :
       {ExportFormat::NetflowV5, ExportFormat::NetflowV9, ExportFormat::Sflow}) {
    const FlowBatch in = sample_batch(200);
    ExporterConfig config{.source_id = 1, .mtu = 1400};
    auto encoder = make_encoder(format, config, kBoot);
    DatagramBuffer out;
    (void)encoder->encode(in, 0, 100, kNow, out);
    // The exporter reboots one second later: uptime and sequences start again.
    encoder->restart(kNow + DurationMs(1000));
    (void)encoder->encode(in, 100, 200, kNow + DurationMs(2000), out);
    FlowDecoder decoder;
    FlowBatch batch;
    for (std::size_t i = 0; i < out.size(); ++i)
      decoder.decode({out.at(i), kExporter, kNow}, batch);
    const IpAddress key = format == ExportFormat::Sflow ? config.agent : kExporter;
    EXPECT_EQ(decoder.stats().exporters().at(key).restarts, 1u) << format_name(format);
    EXPECT_EQ(decoder.stats().exporters().at(key).dropped, 0u) << format_name(format);
  }
}

TEST(FlowEncoder, IpfixWithdrawalThenTemplatesAgain) {
  const FlowBatch in = sample_batch(50);
  auto encoder = make_encoder(ExportFormat::Ipfix, ExporterConfig{.source_id = 9}, kBoot);
  DatagramBuffer out;
  (void)encoder->encode(in, 0, 25, kNow, out);
  encoder->withdraw_templates();
  (void)encoder->encode(in, 25, 50, kNow, out);
  FlowDecoder decoder;
  FlowBatch batch;
  for (std::size_t i = 0; i < out.size(); ++i) decoder.decode({out.at(i), kExporter, kNow}, batch);
  EXPECT_EQ(batch.size(), 50u);
  EXPECT_EQ(decoder.stats().exporters().at(kExporter).withdrawals, 2u);
  EXPECT_EQ(decoder.stats().exporters().at(kExporter).dropped, 0u);
}

TEST(FlowEncoder, ParseFormat) {
  EXPECT_EQ(*parse_export_format("ipfix"), ExportFormat::Ipfix);
  EXPECT_FALSE(parse_export_format("v10").has_value());
}

}  // namespace
}  // namespace flowscope::decode
