#include "decode/sflow_encoder.h"

#include <algorithm>

#include "core/byte_writer.h"
#include "core/ip_proto.h"

namespace flowscope::decode {
namespace {

constexpr std::size_t kHeaderSizeV6 = 40;  // version .. sample count, IPv6 agent
// Largest flow sample: tag, length, 8 fixed words, sampled header record (16 + 74 bytes of
// Ethernet + IPv6 + TCP, padded to 76), switch (8 + 16), router (8 + 28), gateway (8 + 56).
constexpr std::size_t kMaxFlowSample = 8 + 32 + 8 + 16 + 76 + 24 + 36 + 64;
constexpr std::size_t kCounterSample = 8 + 12 + 8 + 88;
constexpr std::uint32_t kEthernetFcs = 4;

void write_address(ByteWriter& w, const IpAddress& a) {
  if (a.is_v4()) {
    w.u32be(1);
    w.u32be(a.v4_value());
  } else {
    w.u32be(2);
    w.bytes(std::span<const std::uint8_t>(a.bytes()));
  }
}

std::size_t l4_header_size(std::uint8_t proto) {
  switch (proto) {
    case ip_proto::kTcp: return 20;
    case ip_proto::kUdp: return 8;
    case ip_proto::kIcmp:
    case ip_proto::kIcmpV6: return 8;
    default: return 0;
  }
}

// RFC 791 header checksum, so that the sampled header is a valid packet for any dissector.
std::uint16_t ipv4_checksum(const std::byte* header) {
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    sum += (static_cast<std::uint32_t>(header[i]) << 8) | static_cast<std::uint32_t>(header[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// The sampled packet's first bytes: Ethernet, IP and the transport header, no payload.
void write_sampled_header(std::vector<std::byte>& buf, const FlowBatch& batch, std::size_t row,
                          std::uint32_t ip_length) {
  ByteWriter w(buf);
  const IpAddress src = batch.get<FieldId::SrcAddr>(row);
  const IpAddress dst = batch.get<FieldId::DstAddr>(row);
  const std::uint8_t proto = batch.get<FieldId::Proto>(row);
  const std::uint8_t tos = batch.get<FieldId::Tos>(row);
  const bool v4 = src.is_v4() && dst.is_v4();
  // Locally administered MACs (the x2 bit): no vendor's.
  constexpr std::uint8_t kDstMac[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
  constexpr std::uint8_t kSrcMac[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  w.bytes(std::span<const std::uint8_t>(kDstMac));
  w.bytes(std::span<const std::uint8_t>(kSrcMac));
  w.u16be(v4 ? 0x0800 : 0x86DD);
  const std::size_t ip_start = w.offset();
  if (v4) {
    w.u8(0x45);
    w.u8(tos);
    w.u16be(static_cast<std::uint16_t>(ip_length));
    w.u16be(static_cast<std::uint16_t>(row));  // identification
    w.u16be(0x4000);                           // don't fragment
    w.u8(64);
    w.u8(proto);
    w.u16be(0);  // checksum, below
    w.u32be(src.v4_value());
    w.u32be(dst.v4_value());
    const std::uint16_t sum = ipv4_checksum(buf.data() + ip_start);
    w.patch_u16be(ip_start + 10, sum);
  } else {
    w.u32be((6u << 28) | (std::uint32_t{tos} << 20));
    w.u16be(static_cast<std::uint16_t>(ip_length - 40));
    w.u8(proto);
    w.u8(64);
    w.bytes(std::span<const std::uint8_t>(src.bytes()));
    w.bytes(std::span<const std::uint8_t>(dst.bytes()));
  }
  const std::uint16_t sport = batch.get<FieldId::SrcPort>(row);
  const std::uint16_t dport = batch.get<FieldId::DstPort>(row);
  const std::size_t ip_header = v4 ? 20 : 40;
  if (proto == ip_proto::kTcp) {
    w.u16be(sport);
    w.u16be(dport);
    w.u32be(1);                                                 // sequence
    w.u32be(batch.get<FieldId::TcpFlags>(row) & 0x10 ? 1 : 0);  // ack number
    w.u8(5 << 4);
    w.u8(batch.get<FieldId::TcpFlags>(row));
    w.u16be(65535);  // window
    w.u16be(0);      // checksum (not computed: the payload is not sampled)
    w.u16be(0);
  } else if (proto == ip_proto::kUdp) {
    w.u16be(sport);
    w.u16be(dport);
    w.u16be(static_cast<std::uint16_t>(ip_length - ip_header));
    w.u16be(0);  // no checksum (IPv4); the payload is not sampled anyway
  } else if (proto == ip_proto::kIcmp || proto == ip_proto::kIcmpV6) {
    // dst_port holds type * 256 + code, as NetFlow v5 and the decoder do.
    w.u8(static_cast<std::uint8_t>(dport >> 8));
    w.u8(static_cast<std::uint8_t>(dport));
    w.u16be(0);
    w.u32be(0);
  }
}

}  // namespace

SflowEncoder::SflowEncoder(const ExporterConfig& config, TimeMs boot)
    : config_(config), boot_(boot) {}

void SflowEncoder::restart(TimeMs now) {
  boot_ = now;
  sequence_ = flow_samples_ = counter_samples_ = 0;
  since_counters_ = 0;
  interfaces_.clear();
}

std::size_t SflowEncoder::datagram_budget() const {
  // Counter samples take at most half a datagram when they are due.
  const bool counters = since_counters_ >= config_.refresh_every && !interfaces_.empty();
  return config_.mtu - kHeaderSizeV6 - (counters ? config_.mtu / 2 : 0);
}

std::size_t SflowEncoder::record_cost(bool, bool) const { return kMaxFlowSample; }

std::uint32_t SflowEncoder::sampled_ip_length(const FlowBatch& batch, std::size_t row) {
  const std::uint64_t packets = std::max<std::uint64_t>(1, batch.get<FieldId::FlowPackets>(row));
  const std::uint64_t bytes = batch.get<FieldId::FlowBytes>(row);
  const IpAddress src = batch.get<FieldId::SrcAddr>(row);
  const IpAddress dst = batch.get<FieldId::DstAddr>(row);
  const std::size_t headers =
      (src.is_v4() && dst.is_v4() ? 20 : 40) + l4_header_size(batch.get<FieldId::Proto>(row));
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(bytes / packets, headers, 65535));
}

void SflowEncoder::write_flow_sample(std::vector<std::byte>& buf, const FlowBatch& batch,
                                     std::size_t row) {
  ByteWriter w(buf);
  const std::uint32_t in_if = batch.get<FieldId::InIf>(row) & 0x3FFFFFFF;
  const std::uint32_t out_if = batch.get<FieldId::OutIf>(row) & 0x3FFFFFFF;
  const std::uint32_t ip_length = sampled_ip_length(batch, row);
  const IpAddress hop = batch.get<FieldId::NextHop>(row);
  const std::uint32_t src_as = batch.get<FieldId::SrcAs>(row);
  const std::uint32_t dst_as = batch.get<FieldId::DstAs>(row);

  const std::size_t sample_start = w.offset();
  w.u32be(1);  // enterprise 0, format 1: flow_sample
  w.u32be(0);  // length, patched
  w.u32be(++flow_samples_);
  w.u32be(in_if);  // source id: type 0 (ifIndex) << 24 | index
  w.u32be(rate());
  w.u32be(flow_samples_ * rate());  // sample pool: packets that could have been sampled
  w.u32be(0);                       // drops
  w.u32be(in_if);
  w.u32be(out_if);
  w.u32be(4);  // records

  // Record 1: sampled_header, Ethernet (header_protocol 1).
  w.u32be(1);
  const std::size_t rec_len_at = w.offset();
  w.u32be(0);
  const std::size_t rec_start = w.offset();
  w.u32be(1);
  w.u32be(14 + ip_length + kEthernetFcs);  // frame length
  w.u32be(kEthernetFcs);                   // stripped: the FCS is not in the header
  const std::size_t header_len_at = w.offset();
  w.u32be(0);
  const std::size_t header_start = w.offset();
  // Written straight into the datagram: `w` appends to the same buffer.
  write_sampled_header(buf, batch, row, ip_length);
  w.patch_u32be(header_len_at, static_cast<std::uint32_t>(w.offset() - header_start));
  w.pad_to(header_start, 4);
  w.patch_u32be(rec_len_at, static_cast<std::uint32_t>(w.offset() - rec_start));

  // 1001 extended_switch: src vlan, src priority, dst vlan, dst priority.
  w.u32be(1001);
  w.u32be(16);
  w.u32be(batch.get<FieldId::SrcVlan>(row));
  w.u32be(0);
  w.u32be(batch.get<FieldId::DstVlan>(row));
  w.u32be(0);

  // 1002 extended_router: next hop, source and destination masks.
  w.u32be(1002);
  w.u32be(hop.is_v4() ? 16 : 28);
  write_address(w, hop);
  w.u32be(batch.get<FieldId::SrcMask>(row));
  w.u32be(batch.get<FieldId::DstMask>(row));

  // 1003 extended_gateway: next hop, own AS, source AS, source peer AS, one AS_SEQUENCE segment
  // ending in the destination AS, no communities, local preference.
  w.u32be(1003);
  w.u32be(hop.is_v4() ? 44 : 56);
  write_address(w, hop);
  w.u32be(src_as);  // the router's own AS: the source side's
  w.u32be(src_as);
  w.u32be(src_as);
  w.u32be(1);  // segments
  w.u32be(2);  // AS_SEQUENCE
  w.u32be(1);
  w.u32be(dst_as);
  w.u32be(0);    // communities
  w.u32be(100);  // local preference
  w.patch_u32be(sample_start + 4, static_cast<std::uint32_t>(w.offset() - sample_start - 8));

  if (interfaces_.size() < kMaxInterfaces || interfaces_.count(in_if) != 0) {
    IfTotals& in = interfaces_[in_if];
    in.in_octets += std::uint64_t{14 + ip_length} * rate();
    in.in_packets += rate();
  }
  if (interfaces_.size() < kMaxInterfaces || interfaces_.count(out_if) != 0) {
    IfTotals& out = interfaces_[out_if];
    out.out_octets += std::uint64_t{14 + ip_length} * rate();
    out.out_packets += rate();
  }
}

// counters_sample with one generic interface counters record (sFlow v5 §5.1, 88 bytes).
void SflowEncoder::write_counter_sample(ByteWriter& w, std::uint32_t if_index, const IfTotals& t) {
  w.u32be(2);  // enterprise 0, format 2: counters_sample
  w.u32be(static_cast<std::uint32_t>(kCounterSample - 8));
  w.u32be(++counter_samples_);
  w.u32be(if_index);
  w.u32be(1);  // records
  w.u32be(1);  // generic interface counters
  w.u32be(88);
  w.u32be(if_index);
  w.u32be(6);  // ifType ethernetCsmacd
  w.u64be(10'000'000'000);
  w.u32be(1);  // full duplex
  w.u32be(3);  // admin and oper up
  w.u64be(t.in_octets);
  w.u32be(t.in_packets);
  w.u32be(0);
  w.u32be(0);
  w.u32be(0);
  w.u32be(0);
  w.u32be(0);
  w.u64be(t.out_octets);
  w.u32be(t.out_packets);
  w.u32be(0);
  w.u32be(0);
  w.u32be(0);
  w.u32be(0);
  w.u32be(0);
}

std::size_t SflowEncoder::encode(const FlowBatch& batch, std::size_t begin, std::size_t end,
                                 TimeMs now, DatagramBuffer& out) {
  std::size_t encoded = 0;
  std::size_t row = begin;
  while (row < end) {
    ByteWriter w(out.buffer());
    const std::size_t start = w.offset();
    w.u32be(5);
    write_address(w, config_.agent);
    w.u32be(config_.source_id);
    w.u32be(++sequence_);
    w.u32be(static_cast<std::uint32_t>(to_ms(now) - to_ms(boot_)));
    const std::size_t count_at = w.offset();
    w.u32be(0);
    std::uint32_t samples = 0;
    if (since_counters_ >= config_.refresh_every && !interfaces_.empty()) {
      for (const auto& [if_index, totals] : interfaces_) {
        if (w.offset() - start + kCounterSample > config_.mtu / 2) break;
        write_counter_sample(w, if_index, totals);
        ++samples;
      }
      since_counters_ = 0;
    }
    for (; row < end && w.offset() - start + kMaxFlowSample <= config_.mtu; ++row) {
      write_flow_sample(out.buffer(), batch, row);
      ++samples;
      ++encoded;
    }
    w.patch_u32be(count_at, samples);
    out.close_datagram();
    ++datagrams_;
    ++since_counters_;
  }
  return encoded;
}

}  // namespace flowscope::decode
