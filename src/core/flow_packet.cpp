#include "core/flow_packet.h"

namespace flowscope {
namespace {

using Bytes = std::span<const std::byte>;
using layers_detail::u16;
using layers_detail::u32;
using layers_detail::u8;

PacketIssue link_issue(LinkIssue issue) {
  switch (issue) {
    case LinkIssue::None: return PacketIssue::None;
    case LinkIssue::UnsupportedLink: return PacketIssue::UnsupportedLink;
    case LinkIssue::Truncated: return PacketIssue::LinkTruncated;
    case LinkIssue::MplsTruncated: return PacketIssue::MplsTruncated;
    case LinkIssue::BadIpVersion: return PacketIssue::NotIp;
  }
  return PacketIssue::NotIp;
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
  const std::size_t declared_end = 40u + payload_length;
  if (is_ipv6_extension(next)) {  // walked as core/packet_layers.h does
    Ipv6Extensions ext;
    walk_ipv6_extensions(next, b.subspan(40, end - 40), ext);
    out.fragment = ext.fragment;
    out.later_fragment = ext.later_fragment;
    out.fragment_id = ext.fragment_id;
    pos = 40 + ext.offset;
    next = ext.next;
    if (ext.cut) {  // an extension header beyond the capture: meter what the addresses say
      if (declared_end < pos + 8) return PacketIssue::Ipv6ExtTruncated;
      out.snapped = true;
      out.protocol = next;
      transport = Bytes();
      out.payload_length = 0;
      return PacketIssue::None;
    }
  }
  if (pos > declared_end) return PacketIssue::Ipv6ExtTruncated;
  out.protocol = next;
  out.payload_length = static_cast<std::uint32_t>(declared_end - pos);
  transport = out.later_fragment || pos > end ? Bytes() : b.subspan(pos, end - pos);
  return PacketIssue::None;
}

PacketIssue network_layer(const LinkLayers& net, FlowPacket& out, Bytes& transport) {
  if (net.ether_type == kEtherTypeIpv4) return ipv4(net.payload, out, transport);
  if (net.ether_type == kEtherTypeIpv6) return ipv6(net.payload, out, transport);
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
  LinkLayers net;
  PacketIssue issue = link_issue(walk_link(link, frame, net));
  if (issue != PacketIssue::None) return issue;
  out.vlan = net.vlan;
  Bytes transport;
  for (int depth = 0;; ++depth) {
    if (net.ether_type == kEtherTypeTeb) {  // Ethernet inside GRE or a pseudowire: its tags
      const Bytes ethernet = net.payload;   // are not the flow's
      issue = link_issue(walk_ethernet(ethernet, net, true));
      if (issue != PacketIssue::None) return issue;
    }
    issue = network_layer(net, out, transport);
    if (issue != PacketIssue::None) return issue;
    if (out.later_fragment) return PacketIssue::None;
    const std::uint8_t proto = out.protocol;
    if (proto != 4 && proto != 41 && proto != 47) break;
    // A tunnel: the flow is the inner packet's, unless the inner protocol is one we do not open.
    LinkLayers inner;
    if (proto == 47) {
      const GreIssue gre = walk_gre(transport, inner);
      if (gre == GreIssue::NotOpened) break;
      if (gre == GreIssue::Bad) return PacketIssue::GreBad;
      if (gre == GreIssue::MplsTruncated) return PacketIssue::MplsTruncated;
      if (gre == GreIssue::Truncated) return PacketIssue::LinkTruncated;
    } else {
      inner.ether_type = proto == 4 ? kEtherTypeIpv4 : kEtherTypeIpv6;
      inner.payload = transport;
    }
    if (depth + 1 >= kMaxTunnelDepth) return PacketIssue::TunnelTooDeep;
    // A tunnel header that was fragmented or snapped cannot be opened; meter the outer packet.
    if (out.fragment || inner.payload.empty()) break;
    const std::uint16_t vlan = out.vlan;
    const std::uint8_t tunnels = out.tunnels;
    out = FlowPacket{};
    out.vlan = vlan;
    out.tunnels = static_cast<std::uint8_t>(tunnels + 1);
    net = inner;
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
