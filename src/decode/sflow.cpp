#include "decode/sflow.h"

#include <optional>

#include "core/byte_reader.h"
#include "core/packet_parser.h"

namespace flowscope::decode {
namespace {

// sFlow version codes in the registry's `version` field (FlowTraq's EXPV).
constexpr std::uint8_t version_code(std::uint32_t sflow_version) {
  return sflow_version == 2 ? 18 : sflow_version == 4 ? 20 : 21;
}

// What one flow sample says about its packet, gathered from its records.
struct FlowSample {
  std::uint32_t sampling_rate = 0;
  std::uint32_t input = 0;
  std::uint32_t output = 0;
  bool input_is_index = false;
  bool output_is_index = false;
  std::uint32_t source_id = 0;
  std::optional<PacketSummary> packet;
  std::uint32_t frame_length = 0;
  std::uint16_t src_vlan = 0;
  std::uint16_t dst_vlan = 0;
  bool has_switch = false;
  IpAddress next_hop;
  bool has_next_hop = false;
  std::uint8_t src_mask = 0;
  std::uint8_t dst_mask = 0;
  bool has_router = false;
  std::uint32_t src_as = 0;
  std::uint32_t dst_as = 0;
  bool has_gateway = false;
};

// XDR address: type (1 IPv4, 2 IPv6) and the address. nullopt on a bad type.
std::optional<IpAddress> read_address(ByteReader& r) {
  std::uint32_t type = r.u32be();
  if (type == 1) {
    auto b = r.bytes(4);
    if (b.size() != 4) return std::nullopt;
    return IpAddress::v4_bytes(b.first<4>());
  }
  if (type == 2) {
    auto b = r.bytes(16);
    if (b.size() != 16) return std::nullopt;
    return IpAddress::v6_bytes(b.first<16>());
  }
  return std::nullopt;
}

// XDR opaque<>: a length, the bytes, padding to 4. Empty (and r failed) on overrun.
std::span<const std::byte> read_opaque(ByteReader& r) {
  std::uint32_t len = r.u32be();
  auto data = r.bytes(len);
  r.skip((4 - len % 4) % 4);
  return data;
}

// sampled_header: the first bytes of the packet as sampled. header_protocol 1 is Ethernet,
// 11 IPv4, 12 IPv6 (sFlow's header_protocol enumeration).
bool read_sampled_header(ByteReader& r, bool v5, FlowSample& s) {
  std::uint32_t protocol = r.u32be();
  s.frame_length = r.u32be();
  if (v5) r.u32be();  // stripped: bytes removed from the frame (e.g. the FCS)
  auto header = read_opaque(r);
  if (r.failed()) return false;
  LinkType link = protocol == 1                      ? LinkType::Ethernet
                  : protocol == 11 || protocol == 12 ? LinkType::Raw
                                                     : LinkType::Null;
  if (link == LinkType::Null) return true;  // another link type: no addresses to report
  auto packet = summarize_packet(link, header);
  if (packet) s.packet = *packet;
  return true;
}

// sampled_ipv4 / sampled_ipv6 records: the packet's fields, already decoded by the agent.
bool read_sampled_ip(ByteReader& r, bool v6, FlowSample& s) {
  PacketSummary p;
  p.ip_length = r.u32be();
  p.protocol = static_cast<std::uint8_t>(r.u32be());
  auto src = r.bytes(v6 ? 16 : 4);
  auto dst = r.bytes(v6 ? 16 : 4);
  p.src_port = static_cast<std::uint16_t>(r.u32be());
  p.dst_port = static_cast<std::uint16_t>(r.u32be());
  p.tcp_flags = static_cast<std::uint8_t>(r.u32be());
  p.tos = static_cast<std::uint8_t>(r.u32be());  // v6: priority
  if (r.failed()) return false;
  p.src = v6 ? IpAddress::v6_bytes(src.first<16>()) : IpAddress::v4_bytes(src.first<4>());
  p.dst = v6 ? IpAddress::v6_bytes(dst.first<16>()) : IpAddress::v4_bytes(dst.first<4>());
  s.packet = p;
  return true;
}

bool read_switch(ByteReader& r, FlowSample& s) {
  s.src_vlan = static_cast<std::uint16_t>(r.u32be());
  r.u32be();  // src priority
  s.dst_vlan = static_cast<std::uint16_t>(r.u32be());
  r.u32be();  // dst priority
  s.has_switch = !r.failed();
  return !r.failed();
}

bool read_router(ByteReader& r, FlowSample& s) {
  auto hop = read_address(r);
  s.src_mask = static_cast<std::uint8_t>(r.u32be());
  s.dst_mask = static_cast<std::uint8_t>(r.u32be());
  if (!hop || r.failed()) return false;
  s.next_hop = *hop;
  s.has_next_hop = s.has_router = true;
  return true;
}

// extended_gateway. v5 and v4 start with the next hop (v5 only) and carry AS path segments,
// communities and local preference; v2 has a flat AS path. The destination AS is the last AS
// of the path, as nfdump and sflowtool report it.
bool read_gateway(ByteReader& r, std::uint32_t version, FlowSample& s) {
  if (version == 5) {
    auto hop = read_address(r);
    if (!hop) return false;
    s.next_hop = *hop;
    s.has_next_hop = true;
  }
  r.u32be();  // the router's own AS
  s.src_as = r.u32be();
  r.u32be();  // src peer AS
  std::uint32_t last_as = 0;
  std::uint32_t segments = r.u32be();
  if (version == 2) {
    // v2: dst_as_path is a plain list of AS numbers.
    if (!r.has(std::size_t{segments} * 4)) return false;
    for (std::uint32_t i = 0; i < segments; ++i) last_as = r.u32be();
  } else {
    for (std::uint32_t i = 0; i < segments && !r.failed(); ++i) {
      r.u32be();  // segment type: set or sequence
      std::uint32_t count = r.u32be();
      if (!r.has(std::size_t{count} * 4)) return false;
      for (std::uint32_t j = 0; j < count; ++j) last_as = r.u32be();
    }
    std::uint32_t communities = r.u32be();
    if (!r.has(std::size_t{communities} * 4)) return false;
    r.skip(std::size_t{communities} * 4);
    r.u32be();  // local preference
  }
  if (r.failed()) return false;
  s.dst_as = last_as;
  s.has_gateway = true;
  return true;
}

void append(const FlowSample& s, const IpAddress& agent, std::uint32_t sub_agent,
            std::uint32_t version, TimeMs received, FlowBatch& batch) {
  const PacketSummary& p = *s.packet;
  std::size_t row = batch.add_row();
  std::uint64_t rate = s.sampling_rate == 0 ? 1 : s.sampling_rate;
  // Layer-3 bytes, as NetFlow counts them; the frame length when the IP length is unknown.
  std::uint64_t bytes = p.ip_length != 0 ? p.ip_length : s.frame_length;
  batch.set<FieldId::SrcAddr>(row, p.src);
  batch.set<FieldId::DstAddr>(row, p.dst);
  batch.set<FieldId::SrcPort>(row, p.src_port);
  batch.set<FieldId::DstPort>(row, p.dst_port);
  batch.set<FieldId::Proto>(row, p.protocol);
  batch.set<FieldId::TcpFlags>(row, p.tcp_flags);
  batch.set<FieldId::Tos>(row, p.tos);
  batch.set<FieldId::FlowPackets>(row, rate);
  batch.set<FieldId::FlowBytes>(row, bytes * rate);
  batch.set<FieldId::Sampling>(row, s.sampling_rate);
  batch.set<FieldId::First>(row, to_ms(received));
  batch.set<FieldId::Last>(row, to_ms(received));
  batch.set<FieldId::Exporter>(row, agent);
  batch.set<FieldId::Version>(row, version_code(version));
  batch.set<FieldId::SourceId>(row, sub_agent);
  if (s.input_is_index) batch.set<FieldId::InIf>(row, s.input);
  if (s.output_is_index) batch.set<FieldId::OutIf>(row, s.output);
  if (s.has_switch) {
    batch.set<FieldId::SrcVlan>(row, s.src_vlan);
    batch.set<FieldId::DstVlan>(row, s.dst_vlan);
  } else if (p.vlan != 0) {
    batch.set<FieldId::SrcVlan>(row, p.vlan);
  }
  if (s.has_next_hop) batch.set<FieldId::NextHop>(row, s.next_hop);
  if (s.has_router) {
    batch.set<FieldId::SrcMask>(row, s.src_mask);
    batch.set<FieldId::DstMask>(row, s.dst_mask);
  }
  if (s.has_gateway) {
    batch.set<FieldId::SrcAs>(row, s.src_as);
    batch.set<FieldId::DstAs>(row, s.dst_as);
  }
}

// if_counters: the RFC 2863 block shared by every version (88 bytes).
bool read_if_counters(ByteReader& r, InterfaceCounters& c) {
  c.if_index = r.u32be();
  c.if_type = r.u32be();
  c.if_speed = r.u64be();
  c.direction = r.u32be();
  c.status = r.u32be();
  c.in_octets = r.u64be();
  c.in_unicast = r.u32be();
  c.in_multicast = r.u32be();
  c.in_broadcast = r.u32be();
  c.in_discards = r.u32be();
  c.in_errors = r.u32be();
  c.in_unknown_protos = r.u32be();
  c.out_octets = r.u64be();
  c.out_unicast = r.u32be();
  c.out_multicast = r.u32be();
  c.out_broadcast = r.u32be();
  c.out_discards = r.u32be();
  c.out_errors = r.u32be();
  c.promiscuous = r.u32be();
  return !r.failed();
}

}  // namespace

std::size_t SflowDecoder::decode(const Datagram& datagram, DecodeStats& stats, FlowBatch& batch) {
  ByteReader r(datagram.payload);
  std::uint32_t version = r.u32be();
  if (version != 2 && version != 4 && version != 5) {
    ++stats.of(datagram.exporter).packets;
    stats.count(datagram.exporter, DecodeError::UnsupportedVersion);
    return 0;
  }
  auto agent_address = read_address(r);
  std::uint32_t sub_agent = version == 5 ? r.u32be() : 0;
  std::uint32_t sequence = r.u32be();
  std::uint32_t uptime = r.u32be();
  std::uint32_t samples = r.u32be();
  if (!agent_address || r.failed()) {
    ++stats.of(datagram.exporter).packets;
    stats.count(datagram.exporter, DecodeError::TruncatedHeader);
    return 0;
  }
  // Counters are kept per agent: several agents may share one sending address.
  const IpAddress agent = *agent_address;
  ExporterStats& es = stats.of(agent);
  ++es.packets;

  // Sequence numbers count datagrams per (agent, sub-agent); a lower sequence with a lower
  // uptime is a restart of the agent, not loss.
  Agent& state = agents_[{agent, sub_agent}];
  if (state.seen) {
    if (uptime < state.uptime && sequence <= state.sequence) {
      ++es.restarts;
    } else if (sequence != state.sequence + 1) {
      ++es.sequence_gaps;
    }
  }
  state = {sequence, uptime, true};

  // A sample takes at least 8 bytes: a count beyond that is a lie, not a loop to run.
  if (std::size_t{samples} * 8 > r.remaining()) {
    stats.count(agent, DecodeError::SflowBadSample);
    return 0;
  }
  std::size_t appended = 0;
  for (std::uint32_t i = 0; i < samples; ++i) {
    std::uint32_t format = r.u32be();
    ByteReader sample = r;  // v2/v4: no length; the sample runs to the end of the datagram
    if (version == 5) {
      std::uint32_t length = r.u32be();
      sample = r.take(length);
      if (r.failed()) {
        stats.count(agent, DecodeError::SflowBadSample);
        break;
      }
    }
    if (r.failed()) {
      stats.count(agent, DecodeError::SflowBadSample);
      break;
    }
    std::uint32_t enterprise = format >> 12;
    std::uint32_t type = format & 0xfff;
    bool expanded = version == 5 && (type == 3 || type == 4);
    bool is_flow = version == 5 ? type == 1 || type == 3 : format == 1;
    bool is_counters = version == 5 ? type == 2 || type == 4 : format == 2;
    if (enterprise != 0 || (!is_flow && !is_counters)) {
      if (version != 5) {
        // Without a length the rest cannot be found: the datagram ends here.
        stats.count(agent, DecodeError::SflowUnknownFormat);
        break;
      }
      ++es.unknown_elements;
      continue;
    }

    bool ok = true;
    if (is_flow) {
      FlowSample s;
      sample.u32be();  // sample sequence number
      if (expanded) {
        sample.u32be();  // source id type
        s.source_id = sample.u32be();
      } else {
        s.source_id = sample.u32be() & 0x00ffffff;
      }
      s.sampling_rate = sample.u32be();
      sample.u32be();  // sample pool
      sample.u32be();  // drops
      if (expanded) {
        s.input_is_index = sample.u32be() == 0;
        s.input = sample.u32be();
        s.output_is_index = sample.u32be() == 0;
        s.output = sample.u32be();
      } else {
        // Top 2 bits: 0 ifIndex, 1 discarded, 2 several interfaces (v5 §5.1; v2/v4 have no
        // format bits, and their values stay below 2^30).
        std::uint32_t in = sample.u32be(), out = sample.u32be();
        s.input_is_index = (in >> 30) == 0;
        s.input = in & 0x3fffffff;
        s.output_is_index = (out >> 30) == 0;
        s.output = out & 0x3fffffff;
      }
      if (version == 5) {
        std::uint32_t records = sample.u32be();
        for (std::uint32_t k = 0; k < records && ok && !sample.failed(); ++k) {
          std::uint32_t record_format = sample.u32be();
          ByteReader rec = sample.take(sample.u32be());
          if (sample.failed()) {
            ok = false;
            break;
          }
          switch (record_format) {
            case 1: ok = read_sampled_header(rec, true, s); break;
            case 3: ok = read_sampled_ip(rec, false, s); break;
            case 4: ok = read_sampled_ip(rec, true, s); break;
            case 1001: ok = read_switch(rec, s); break;
            case 1002: ok = read_router(rec, s); break;
            case 1003: ok = read_gateway(rec, version, s); break;
            default: ++es.unknown_elements; break;  // skipped by its length
          }
        }
      } else {
        std::uint32_t packet_type = sample.u32be();
        switch (packet_type) {
          case 1: ok = read_sampled_header(sample, false, s); break;
          case 2: ok = read_sampled_ip(sample, false, s); break;
          case 3: ok = read_sampled_ip(sample, true, s); break;
          default: ok = false; break;
        }
        std::uint32_t extended = ok ? sample.u32be() : 0;
        for (std::uint32_t k = 0; k < extended && ok && !sample.failed(); ++k) {
          switch (sample.u32be()) {
            case 1: ok = read_switch(sample, s); break;
            case 2: ok = read_router(sample, s); break;
            case 3: ok = read_gateway(sample, version, s); break;
            case 4:  // user: source and destination user names
              read_opaque(sample);
              read_opaque(sample);
              break;
            case 5:  // url: direction and the URL
              sample.u32be();
              read_opaque(sample);
              break;
            default: ok = false; break;
          }
        }
      }
      ok = ok && !sample.failed();
      if (ok && s.packet) {
        append(s, agent, sub_agent, version, datagram.received, batch);
        ++appended;
      } else if (ok) {
        stats.count(agent, DecodeError::SflowBadHeader);
      }
    } else {
      ++es.counter_samples;
      sample.u32be();  // sequence number
      if (expanded) sample.u32be();
      sample.u32be();  // source id (index)
      if (version == 5) {
        std::uint32_t records = sample.u32be();
        for (std::uint32_t k = 0; k < records && !sample.failed(); ++k) {
          std::uint32_t record_format = sample.u32be();
          ByteReader rec = sample.take(sample.u32be());
          if (record_format != 1) continue;  // only generic interface counters are kept
          InterfaceCounters c;
          if (!read_if_counters(rec, c)) {
            ok = false;
            break;
          }
          c.updated = datagram.received;
          counters_[{agent, c.if_index}] = c;
        }
      } else {
        sample.u32be();  // sampling interval
        std::uint32_t counters_type = sample.u32be();
        // Fixed sizes after if_counters: ethernet 52, token ring 72, FDDI and WAN none;
        // vlan counters replace if_counters (28 bytes). 100BaseVG is not supported.
        InterfaceCounters c;
        switch (counters_type) {
          case 1:
          case 4:
          case 6: ok = read_if_counters(sample, c); break;
          case 2:
            ok = read_if_counters(sample, c);
            sample.skip(52);
            break;
          case 3:
            ok = read_if_counters(sample, c);
            sample.skip(72);
            break;
          case 7: sample.skip(28); break;
          default: ok = false; break;
        }
        if (ok && counters_type != 7 && !sample.failed()) {
          c.updated = datagram.received;
          counters_[{agent, c.if_index}] = c;
        }
      }
      ok = ok && !sample.failed();
    }
    if (!ok) {
      stats.count(agent,
                  version == 5 ? DecodeError::SflowBadSample : DecodeError::SflowUnknownFormat);
      if (version != 5) break;
      continue;
    }
    if (version != 5) r = sample;  // v2/v4: continue after what this sample consumed
  }
  es.records += appended;
  return appended;
}

}  // namespace flowscope::decode
