#include "decode/netflow_v5_encoder.h"

#include <algorithm>

#include "core/byte_writer.h"

namespace flowscope::decode {
namespace {

constexpr std::size_t kHeaderSize = 24;
constexpr std::size_t kRecordSize = 48;
constexpr std::size_t kMaxRecords = 30;

std::uint32_t clamp32(std::uint64_t v) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, 0xFFFFFFFFu));
}
std::uint16_t clamp16(std::uint32_t v) {
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(v, 0xFFFFu));
}

}  // namespace

NetflowV5Encoder::NetflowV5Encoder(const ExporterConfig& config, TimeMs boot)
    : config_(config), boot_(boot) {}

void NetflowV5Encoder::restart(TimeMs now) {
  boot_ = now;
  flow_sequence_ = 0;
}

std::size_t NetflowV5Encoder::datagram_budget() const {
  return records_per_datagram() * kRecordSize;
}

std::size_t NetflowV5Encoder::record_cost(bool ipv6, bool) const { return ipv6 ? 0 : kRecordSize; }

std::size_t NetflowV5Encoder::records_per_datagram() const {
  return std::min(kMaxRecords, (config_.mtu - kHeaderSize) / kRecordSize);
}

std::size_t NetflowV5Encoder::encode(const FlowBatch& batch, std::size_t begin, std::size_t end,
                                     TimeMs now, DatagramBuffer& out) {
  const std::size_t per_datagram = records_per_datagram();
  const auto& src = batch.column(FieldId::SrcAddr).vec<IpAddress>();
  const auto& dst = batch.column(FieldId::DstAddr).vec<IpAddress>();
  const std::int64_t now_ms = to_ms(now);
  // sysUpTime and the export time describe the same instant, so that the decoder's
  // `export time - (sysUpTime - first)` gives back the record's time exactly.
  const auto uptime = static_cast<std::uint32_t>(now_ms - to_ms(boot_));
  std::size_t encoded = 0;
  std::size_t row = begin;
  while (row < end) {
    // Collect the IPv4 rows of the next datagram.
    std::size_t count = 0;
    std::vector<std::byte>& buf = out.buffer();
    ByteWriter w(buf);
    const std::size_t start = w.offset();
    w.u16be(5);
    w.u16be(0);  // count, patched below
    w.u32be(uptime);
    w.u32be(static_cast<std::uint32_t>(now_ms / 1000));
    w.u32be(static_cast<std::uint32_t>(now_ms % 1000) * 1'000'000u);
    w.u32be(flow_sequence_);
    w.u8(static_cast<std::uint8_t>(config_.source_id >> 8));
    w.u8(static_cast<std::uint8_t>(config_.source_id));
    // Top two bits: sampling mode 01 (deterministic 1 in N); low 14 bits: the interval.
    const std::uint16_t sampling =
        config_.sampling == 0 ? 0
                              : static_cast<std::uint16_t>(
                                    0x4000u | std::min<std::uint32_t>(config_.sampling, 0x3FFF));
    w.u16be(sampling);
    for (; row < end && count < per_datagram; ++row) {
      if (!src[row].is_v4() || !dst[row].is_v4()) {
        ++skipped_;
        continue;
      }
      // Uptime of an absolute time, modulo 2^32 (RFC 3954 §8 reads it back the same way).
      auto rel = [&](std::int64_t t) { return static_cast<std::uint32_t>(t - to_ms(boot_)); };
      const IpAddress hop = batch.get<FieldId::NextHop>(row);
      w.u32be(src[row].v4_value());
      w.u32be(dst[row].v4_value());
      w.u32be(hop.is_v4() ? hop.v4_value() : 0);
      w.u16be(clamp16(batch.get<FieldId::InIf>(row)));
      w.u16be(clamp16(batch.get<FieldId::OutIf>(row)));
      w.u32be(clamp32(batch.get<FieldId::FlowPackets>(row)));
      w.u32be(clamp32(batch.get<FieldId::FlowBytes>(row)));
      w.u32be(rel(batch.get<FieldId::First>(row)));
      w.u32be(rel(batch.get<FieldId::Last>(row)));
      w.u16be(batch.get<FieldId::SrcPort>(row));
      w.u16be(batch.get<FieldId::DstPort>(row));
      w.u8(0);  // pad1
      w.u8(batch.get<FieldId::TcpFlags>(row));
      w.u8(batch.get<FieldId::Proto>(row));
      w.u8(batch.get<FieldId::Tos>(row));
      w.u16be(clamp16(batch.get<FieldId::SrcAs>(row)));
      w.u16be(clamp16(batch.get<FieldId::DstAs>(row)));
      w.u8(batch.get<FieldId::SrcMask>(row));
      w.u8(batch.get<FieldId::DstMask>(row));
      w.u16be(0);  // pad2
      ++count;
    }
    if (count == 0) {
      buf.resize(start);  // only IPv6 rows were left: no empty datagram
      break;
    }
    w.patch_u16be(start + 2, static_cast<std::uint16_t>(count));
    out.close_datagram();
    ++datagrams_;
    flow_sequence_ += static_cast<std::uint32_t>(count);
    encoded += count;
  }
  return encoded;
}

}  // namespace flowscope::decode
