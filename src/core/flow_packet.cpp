#include "core/flow_packet.h"

#include <cstring>

namespace flowscope {
namespace {

constexpr std::uint16_t kEtherTypePppoeSession = 0x8864;
constexpr std::uint16_t kEtherTypeTeb = 0x6558;  // GRE transparent Ethernet bridging

using Bytes = std::span<const std::byte>;

inline std::uint8_t u8(const std::byte* p) { return static_cast<std::uint8_t>(*p); }
inline std::uint16_t u16(const std::byte* p) {
  return static_cast<std::uint16_t>((unsigned{u8(p)} << 8) | u8(p + 1));
}
inline std::uint32_t u32(const std::byte* p) {
  return (std::uint32_t{u8(p)} << 24) | (std::uint32_t{u8(p + 1)} << 16) |
         (std::uint32_t{u8(p + 2)} << 8) | u8(p + 3);
}

// A network-layer payload: its ether type (IPv4/IPv6 or another) and bytes.
struct Network {
  std::uint16_t type = 0;
  Bytes bytes;
};

// RFC 3032: labels until the bottom-of-stack bit; then IPv4 or IPv6 by the first nibble (there
// is no type field). A pseudowire control word (first nibble 0) is followed by Ethernet.
PacketIssue mpls(Bytes b, Network& net) {
  std::size_t pos = 0;
  for (;;) {
    if (b.size() < pos + 4) return PacketIssue::MplsTruncated;
    const std::uint32_t label = u32(b.data() + pos);
    pos += 4;
    if ((label & 0x100) != 0) break;
  }
  if (b.size() <= pos) return PacketIssue::MplsTruncated;
  const unsigned nibble = u8(b.data() + pos) >> 4;
  if (nibble == 4)
    net = {kEtherTypeIpv4, b.subspan(pos)};
  else if (nibble == 6)
    net = {kEtherTypeIpv6, b.subspan(pos)};
  else if (nibble == 0)
    net = {kEtherTypeTeb, b.subspan(pos + 4 <= b.size() ? pos + 4 : b.size())};
  else
    return PacketIssue::NotIp;
  return PacketIssue::None;
}

// Ethernet II with any number of 802.1Q/802.1ad tags, then MPLS or PPPoE when present.
PacketIssue ethernet(Bytes b, Network& net, std::uint16_t& vlan) {
  if (b.size() < 14) return PacketIssue::LinkTruncated;
  std::size_t pos = 12;
  std::uint16_t type = u16(b.data() + pos);
  pos += 2;
  while (type == kEtherTypeVlan || type == kEtherTypeQinQ) {
    if (b.size() < pos + 4) return PacketIssue::LinkTruncated;
    if (vlan == 0) vlan = u16(b.data() + pos) & 0x0FFF;
    type = u16(b.data() + pos + 2);
    pos += 4;
  }
  if (type == kEtherTypeMpls || type == kEtherTypeMplsMulticast) {
    return mpls(b.subspan(pos), net);
  }
  if (type == kEtherTypePppoeSession) {
    // RFC 2516: 6-byte PPPoE header, then the 2-byte PPP protocol (0x0021 IPv4, 0x0057 IPv6).
    if (b.size() < pos + 8) return PacketIssue::LinkTruncated;
    const std::uint16_t ppp = u16(b.data() + pos + 6);
    if (ppp == 0x0021)
      type = kEtherTypeIpv4;
    else if (ppp == 0x0057)
      type = kEtherTypeIpv6;
    else
      return PacketIssue::NotIp;
    pos += 8;
  }
  net = {type, b.subspan(pos)};
  return PacketIssue::None;
}

PacketIssue link_layer(LinkType link, Bytes frame, Network& net, std::uint16_t& vlan) {
  switch (link) {
    case LinkType::Ethernet: return ethernet(frame, net, vlan);
    case LinkType::LinuxSll:
      if (frame.size() < 16) return PacketIssue::LinkTruncated;
      net = {u16(frame.data() + 14), frame.subspan(16)};
      break;
    case LinkType::LinuxSll2:
      if (frame.size() < 20) return PacketIssue::LinkTruncated;
      net = {u16(frame.data()), frame.subspan(20)};
      break;
    case LinkType::Null:
    case LinkType::Loop: {
      if (frame.size() < 4) return PacketIssue::LinkTruncated;
      std::uint32_t af;
      std::memcpy(&af, frame.data(), 4);
      // DLT_NULL is in the capturing host's order, DLT_LOOP in network order: accept both.
      if (af > 0xFFFF) af = __builtin_bswap32(af);
      if (af == 2)
        net = {kEtherTypeIpv4, frame.subspan(4)};
      else if (af == 10 || af == 24 || af == 28 || af == 30)
        net = {kEtherTypeIpv6, frame.subspan(4)};
      else
        return PacketIssue::NotIp;
      break;
    }
    case LinkType::Raw: {
      if (frame.empty()) return PacketIssue::LinkTruncated;
      const unsigned version = u8(frame.data()) >> 4;
      if (version == 4)
        net = {kEtherTypeIpv4, frame};
      else if (version == 6)
        net = {kEtherTypeIpv6, frame};
      else
        return PacketIssue::NotIp;
      break;
    }
    case LinkType::Ipv4: net = {kEtherTypeIpv4, frame}; break;
    case LinkType::Ipv6: net = {kEtherTypeIpv6, frame}; break;
    default: return PacketIssue::UnsupportedLink;
  }
  return PacketIssue::None;
}

// The IP layer: fills addresses, protocol, ToS, lengths and fragment identity; `transport` is
// the captured transport header and payload (empty for later fragments).
PacketIssue ipv4(Bytes b, FlowPacket& out, Bytes& transport) {
  if (b.size() < 20) return PacketIssue::Ipv4Truncated;
  const std::byte* p = b.data();
  const unsigned ihl = (u8(p) & 0x0F) * 4u;
  if ((u8(p) >> 4) != 4 || ihl < 20) return PacketIssue::Ipv4BadHeader;
  std::size_t total = u16(p + 2);
  // A total length of 0 comes from TCP segmentation offload on the capturing host: the frame
  // holds the whole packet (Wireshark assumes the same).
  if (total == 0) total = b.size();
  if (total < ihl) return PacketIssue::Ipv4BadLength;
  if (b.size() < ihl) return PacketIssue::Ipv4Truncated;
  out.tos = u8(p + 1);
  out.protocol = u8(p + 9);
  out.src = IpAddress::v4(u32(p + 12));
  out.dst = IpAddress::v4(u32(p + 16));
  out.ipv6 = false;
  out.ip_length = static_cast<std::uint32_t>(total);
  const std::uint16_t frag = u16(p + 6);
  out.fragment = (frag & 0x3FFF) != 0;  // RFC 791: MF set or a non-zero offset
  out.later_fragment = (frag & 0x1FFF) != 0;
  out.fragment_id = u16(p + 4);
  std::size_t end = total;
  if (end > b.size()) {
    out.snapped = true;
    end = b.size();
  }
  transport = out.later_fragment ? Bytes() : b.subspan(ihl, end - ihl);
  out.ip = b.first(end);
  out.payload_length = static_cast<std::uint32_t>(total - ihl);  // by the header
  return PacketIssue::None;
}

PacketIssue ipv6(Bytes b, FlowPacket& out, Bytes& transport) {
  if (b.size() < 40) return PacketIssue::Ipv6Truncated;
  const std::byte* p = b.data();
  const std::uint32_t first = u32(p);
  if ((first >> 28) != 6) return PacketIssue::Ipv6BadHeader;
  const std::uint16_t payload_length = u16(p + 4);
  std::uint8_t next = u8(p + 6);
  out.src = IpAddress::v6_bytes(std::span<const std::byte, 16>(p + 8, 16));
  out.dst = IpAddress::v6_bytes(std::span<const std::byte, 16>(p + 24, 16));
  out.ipv6 = true;
  out.tos = static_cast<std::uint8_t>(first >> 20);
  out.ip_length = 40u + payload_length;
  std::size_t end = 40u + payload_length;
  if (end > b.size()) {
    out.snapped = true;
    end = b.size();
  }
  out.ip = b.first(end);
  std::size_t pos = 40;
  std::size_t declared_end = 40u + payload_length;
  // RFC 8200 §4: hop-by-hop (0), routing (43), fragment (44), destination options (60),
  // authentication (51, RFC 4302: length in 4-byte words).
  for (int hop = 0; hop < 8; ++hop) {
    if (next != 0 && next != 43 && next != 44 && next != 60 && next != 51) break;
    if (end < pos + 8) {
      if (declared_end < pos + 8) return PacketIssue::Ipv6ExtTruncated;
      out.snapped = true;
      out.protocol = next;
      transport = Bytes();
      out.payload_length = 0;
      return PacketIssue::None;
    }
    const std::uint8_t following = u8(p + pos);
    std::size_t length;
    if (next == 44) {
      const std::uint16_t offset_flags = u16(p + pos + 2);
      out.fragment = (offset_flags & 0xFFF9) != 0;
      out.later_fragment = (offset_flags & 0xFFF8) != 0;
      out.fragment_id = u32(p + pos + 4);
      length = 8;
    } else if (next == 51) {
      length = (std::size_t{u8(p + pos + 1)} + 2) * 4;
    } else {
      length = (std::size_t{u8(p + pos + 1)} + 1) * 8;
    }
    pos += length;
    next = following;
    if (out.later_fragment) break;
  }
  if (pos > declared_end) return PacketIssue::Ipv6ExtTruncated;
  out.protocol = next;
  out.payload_length = static_cast<std::uint32_t>(declared_end - pos);
  transport = out.later_fragment || pos > end ? Bytes() : b.subspan(pos, end - pos);
  return PacketIssue::None;
}

PacketIssue network_layer(const Network& net, FlowPacket& out, Bytes& transport) {
  if (net.type == kEtherTypeIpv4) return ipv4(net.bytes, out, transport);
  if (net.type == kEtherTypeIpv6) return ipv6(net.bytes, out, transport);
  return PacketIssue::NotIp;
}

// RFC 2784 / RFC 2890 GRE version 0: flags, protocol type, then optional checksum, key and
// sequence number words. Returns NotIp for a protocol we do not open (the caller meters the
// outer packet), GreBad for a header cut short or a reserved version.
PacketIssue gre(Bytes b, Network& net) {
  if (b.size() < 4) return PacketIssue::GreBad;
  const std::uint16_t flags = u16(b.data());
  const unsigned version = flags & 0x7;
  if (version == 1) return PacketIssue::NotIp;  // PPTP enhanced GRE: metered as protocol 47
  if (version != 0) return PacketIssue::GreBad;
  std::size_t pos = 4;
  if (flags & 0x8000) pos += 4;  // checksum and reserved
  if (flags & 0x2000) pos += 4;  // key
  if (flags & 0x1000) pos += 4;  // sequence number
  if (b.size() < pos) return PacketIssue::GreBad;
  const std::uint16_t type = u16(b.data() + 2);
  if (type == kEtherTypeIpv4 || type == kEtherTypeIpv6 || type == kEtherTypeTeb) {
    net = {type, b.subspan(pos)};
    return PacketIssue::None;
  }
  if (type == kEtherTypeMpls) return mpls(b.subspan(pos), net);
  return PacketIssue::NotIp;
}

void transport_layer(Bytes t, FlowPacket& out) {
  const std::size_t n = t.size();
  const std::byte* p = t.data();
  switch (out.protocol) {
    case 6: {  // RFC 9293 §3.1
      if (n < 4) return;
      out.src_port = u16(p);
      out.dst_port = u16(p + 2);
      out.has_ports = true;
      if (n < 14) return;
      out.seq = u32(p + 4);
      out.ack = u32(p + 8);
      out.tcp_flags = u8(p + 13);
      if (n < 16) return;
      out.window = u16(p + 14);
      const std::size_t offset = (u8(p + 12) >> 4) * 4u;
      out.tcp_header = true;
      if (offset < 20) {
        out.tcp_header = false;  // reported as TcpBadOffset by the caller
        return;
      }
      out.payload_length = out.payload_length >= offset ? out.payload_length - offset : 0;
      out.payload = n > offset ? t.subspan(offset) : Bytes();
      if (out.payload.size() > out.payload_length)
        out.payload = out.payload.first(out.payload_length);
      return;
    }
    case 17:     // UDP
    case 132:    // SCTP: common header starts with the ports too
    case 136: {  // UDP-Lite
      if (n < 4) return;
      out.src_port = u16(p);
      out.dst_port = u16(p + 2);
      out.has_ports = true;
      const std::size_t header = out.protocol == 132 ? 12 : 8;
      out.payload_length = out.payload_length >= header ? out.payload_length - header : 0;
      out.payload = n > header ? t.subspan(header) : Bytes();
      return;
    }
    case 1:
    case 58:
      if (n >= 2) out.dst_port = static_cast<std::uint16_t>(u8(p) << 8 | u8(p + 1));
      return;
    default: return;
  }
}

}  // namespace

std::string_view packet_issue_name(PacketIssue issue) {
  switch (issue) {
    case PacketIssue::None: return "none";
    case PacketIssue::NotIp: return "not_ip";
    case PacketIssue::UnsupportedLink: return "unsupported_link";
    case PacketIssue::LinkTruncated: return "link_truncated";
    case PacketIssue::MplsTruncated: return "mpls_truncated";
    case PacketIssue::Ipv4Truncated: return "ipv4_truncated";
    case PacketIssue::Ipv4BadHeader: return "ipv4_bad_header";
    case PacketIssue::Ipv4BadLength: return "ipv4_bad_length";
    case PacketIssue::Ipv6Truncated: return "ipv6_truncated";
    case PacketIssue::Ipv6BadHeader: return "ipv6_bad_header";
    case PacketIssue::Ipv6ExtTruncated: return "ipv6_ext_truncated";
    case PacketIssue::TransportTruncated: return "transport_truncated";
    case PacketIssue::TcpBadOffset: return "tcp_bad_offset";
    case PacketIssue::UdpBadLength: return "udp_bad_length";
    case PacketIssue::GreBad: return "gre_bad";
    case PacketIssue::TunnelTooDeep: return "tunnel_too_deep";
    case PacketIssue::kCount: break;
  }
  return "?";
}

PacketIssue decode_flow_packet(LinkType link, std::span<const std::byte> frame, FlowPacket& out) {
  out = FlowPacket{};
  Network net;
  PacketIssue issue = link_layer(link, frame, net, out.vlan);
  if (issue != PacketIssue::None) return issue;
  Bytes transport;
  for (int depth = 0;; ++depth) {
    if (net.type == kEtherTypeTeb) {  // Ethernet inside GRE or a pseudowire
      std::uint16_t inner_vlan = 0;
      issue = ethernet(net.bytes, net, inner_vlan);
      if (issue != PacketIssue::None) return issue;
    }
    issue = network_layer(net, out, transport);
    if (issue != PacketIssue::None) return issue;
    if (out.later_fragment) return PacketIssue::None;
    const std::uint8_t proto = out.protocol;
    if (proto != 4 && proto != 41 && proto != 47) break;
    // A tunnel: the flow is the inner packet's, unless the inner protocol is one we do not open.
    Network inner;
    if (proto == 47) {
      issue = gre(transport, inner);
      if (issue == PacketIssue::NotIp) break;
      if (issue != PacketIssue::None) return issue;
    } else {
      inner = {proto == 4 ? kEtherTypeIpv4 : kEtherTypeIpv6, transport};
    }
    if (depth + 1 >= kMaxTunnelDepth) return PacketIssue::TunnelTooDeep;
    // A tunnel header that was fragmented or snapped cannot be opened; meter the outer packet.
    if (out.fragment || inner.bytes.empty()) break;
    net = inner;
    const std::uint16_t vlan = out.vlan;
    const std::uint8_t tunnels = out.tunnels;
    out = FlowPacket{};
    out.vlan = vlan;
    out.tunnels = static_cast<std::uint8_t>(tunnels + 1);
  }
  const std::size_t captured = transport.size();
  transport_layer(transport, out);
  if (out.protocol == 6 || out.protocol == 17 || out.protocol == 136) {
    // Ports cut off, by the snap length or by an IP length too short for them.
    if (!out.has_ports) return PacketIssue::TransportTruncated;
    if (out.protocol == 6 && captured >= 16 && !out.tcp_header) return PacketIssue::TcpBadOffset;
    if (out.protocol == 17 && captured >= 6 && !out.fragment) {
      const std::uint16_t udp_length = u16(transport.data() + 4);
      if (udp_length < 8) return PacketIssue::UdpBadLength;
    }
  }
  return PacketIssue::None;
}

}  // namespace flowscope
