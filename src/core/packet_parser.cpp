#include "core/packet_parser.h"

#include "core/byte_reader.h"
#include "core/ip_proto.h"

namespace flowscope {
namespace {

// BSD address families for IPv4 and the three values used for IPv6 (BSDs differ).
constexpr std::uint32_t kAfInet = 2;
constexpr bool is_af_inet6(std::uint32_t af) {
  return af == 10 || af == 24 || af == 28 || af == 30;
}

Error truncated(const char* what) {
  return Error{ErrorCode::Truncated, std::string(what) + " header truncated"};
}

Result<NetworkView> from_af(std::uint32_t af, std::span<const std::byte> payload) {
  if (af == kAfInet) return NetworkView{kEtherTypeIpv4, 0, payload};
  if (is_af_inet6(af)) return NetworkView{kEtherTypeIpv6, 0, payload};
  return Error{ErrorCode::Unsupported, "loopback address family " + std::to_string(af)};
}

}  // namespace

Result<NetworkView> parse_link(LinkType link, std::span<const std::byte> frame) {
  ByteReader r(frame);
  switch (link) {
    case LinkType::Ethernet: {
      r.skip(12);  // destination and source MAC
      std::uint16_t type = r.u16be();
      std::uint16_t vlan = 0;
      // IEEE 802.1Q / 802.1ad: any number of tags; the outermost id is kept.
      while (!r.failed() && (type == kEtherTypeVlan || type == kEtherTypeQinQ)) {
        std::uint16_t tci = r.u16be();
        if (vlan == 0) vlan = tci & 0x0FFF;
        type = r.u16be();
      }
      if (r.failed()) return truncated("Ethernet");
      if (type == kEtherTypeMpls || type == kEtherTypeMplsMulticast) {
        // RFC 3032: labels until the bottom-of-stack bit; the payload has no type field, so
        // IPv4 or IPv6 is read from its first nibble.
        std::uint32_t label = 0;
        do label = r.u32be();
        while (!r.failed() && (label & 0x100) == 0);
        if (r.failed() || r.empty()) return truncated("MPLS");
        const auto nibble = static_cast<std::uint8_t>(r.rest()[0]) >> 4;
        if (nibble == 4) return NetworkView{kEtherTypeIpv4, vlan, r.rest()};
        if (nibble == 6) return NetworkView{kEtherTypeIpv6, vlan, r.rest()};
        return Error{ErrorCode::Unsupported, "MPLS payload that is not IP"};
      }
      return NetworkView{type, vlan, r.rest()};
    }
    case LinkType::LinuxSll: {
      // packet type, ARPHRD, address length, 8 address bytes, protocol (all big-endian).
      r.skip(14);
      std::uint16_t type = r.u16be();
      if (r.failed()) return truncated("Linux SLL");
      return NetworkView{type, 0, r.rest()};
    }
    case LinkType::LinuxSll2: {
      std::uint16_t type = r.u16be();
      r.skip(18);  // reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes
      if (r.failed()) return truncated("Linux SLL2");
      return NetworkView{type, 0, r.rest()};
    }
    case LinkType::Null: {
      std::uint32_t af = r.u32le();
      if (r.failed()) return truncated("loopback");
      // Host order of the capturing machine; accept a big-endian writer too.
      if (af > 0xFFFF) af = __builtin_bswap32(af);
      return from_af(af, r.rest());
    }
    case LinkType::Loop: {
      std::uint32_t af = r.u32be();
      if (r.failed()) return truncated("loopback");
      return from_af(af, r.rest());
    }
    case LinkType::Raw: {
      if (frame.empty()) return truncated("IP");
      auto version = static_cast<std::uint8_t>(frame[0]) >> 4;
      if (version == 4) return NetworkView{kEtherTypeIpv4, 0, frame};
      if (version == 6) return NetworkView{kEtherTypeIpv6, 0, frame};
      return Error{ErrorCode::Malformed, "raw IP packet with version " + std::to_string(version)};
    }
    case LinkType::Ipv4: return NetworkView{kEtherTypeIpv4, 0, frame};
    case LinkType::Ipv6: return NetworkView{kEtherTypeIpv6, 0, frame};
  }
  return Error{ErrorCode::Unsupported,
               "link type " + std::to_string(static_cast<unsigned>(link)) + " is not supported"};
}

Result<IpView> parse_ipv4(std::span<const std::byte> packet, Snap snap) {
  ByteReader r(packet);
  const std::uint8_t version_ihl = r.u8();
  const std::uint8_t tos = r.u8();
  const std::uint16_t total_length = r.u16be();
  r.skip(2);  // identification
  const std::uint16_t fragment = r.u16be();
  r.skip(1);  // TTL
  const std::uint8_t protocol = r.u8();
  r.skip(2);  // checksum
  std::byte src[4];
  std::byte dst[4];
  r.copy_out(src, 4);
  r.copy_out(dst, 4);
  if (r.failed()) return truncated("IPv4");
  const std::size_t header_length = std::size_t{version_ihl & 0x0Fu} * 4;
  if ((version_ihl >> 4) != 4 || header_length < 20) {
    return Error{ErrorCode::Malformed, "not an IPv4 header (version/IHL)"};
  }
  IpView v;
  // RFC 791: more-fragments flag or a non-zero offset.
  if ((fragment & 0x3FFF) != 0) {
    if (snap == Snap::Strict) return Error{ErrorCode::Unsupported, "IPv4 fragment"};
    v.later_fragment = (fragment & 0x1FFF) != 0;
  }
  if (total_length < header_length) {
    return Error{ErrorCode::Malformed, "IPv4 total length shorter than its header"};
  }
  std::size_t end = total_length;
  if (total_length > packet.size()) {
    if (snap == Snap::Strict || header_length > packet.size()) {
      return Error{ErrorCode::Truncated, "IPv4 total length exceeds the captured packet"};
    }
    v.truncated = true;
    end = packet.size();
  }
  v.src = IpAddress::v4_bytes(std::span<const std::byte, 4>(src, 4));
  v.dst = IpAddress::v4_bytes(std::span<const std::byte, 4>(dst, 4));
  v.protocol = protocol;
  v.tos = tos;
  v.length = total_length;
  v.payload = v.later_fragment ? std::span<const std::byte>()
                               : packet.subspan(header_length, end - header_length);
  return v;
}

Result<IpView> parse_ipv6(std::span<const std::byte> packet, Snap snap) {
  ByteReader r(packet);
  const std::uint32_t first = r.u32be();
  const std::uint16_t payload_length = r.u16be();
  std::uint8_t next = r.u8();
  r.skip(1);  // hop limit
  auto src = r.bytes(16);
  auto dst = r.bytes(16);
  if (r.failed()) return truncated("IPv6");
  if ((first >> 28) != 6) return Error{ErrorCode::Malformed, "not an IPv6 header (version)"};
  IpView v;
  if (payload_length > r.remaining()) {
    if (snap == Snap::Strict) {
      return Error{ErrorCode::Truncated, "IPv6 payload length exceeds the captured packet"};
    }
    v.truncated = true;
  }
  ByteReader body = r.take(std::min<std::size_t>(payload_length, r.remaining()));
  // RFC 8200 §4: walk the extension headers that may precede a transport header.
  for (int hop = 0; hop < 8; ++hop) {
    if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
      const std::uint8_t following = body.u8();
      const std::size_t length = (std::size_t{body.u8()} + 1) * 8;
      body.skip(length - 2);
      next = following;
    } else if (next == 44) {  // fragment header
      const std::uint8_t following = body.u8();
      body.skip(1);
      const std::uint16_t offset_flags = body.u16be();
      body.skip(4);
      if ((offset_flags & 0xFFF9) != 0) {
        if (snap == Snap::Strict) return Error{ErrorCode::Unsupported, "IPv6 fragment"};
        v.later_fragment = (offset_flags & 0xFFF8) != 0;
      }
      next = following;
    } else {
      break;
    }
    if (body.failed()) {
      if (snap == Snap::Strict) return truncated("IPv6 extension");
      v.truncated = true;
      break;
    }
  }
  v.src = IpAddress::v6_bytes(std::span<const std::byte, 16>(src.data(), 16));
  v.dst = IpAddress::v6_bytes(std::span<const std::byte, 16>(dst.data(), 16));
  v.protocol = next;
  v.tos = static_cast<std::uint8_t>(first >> 20);  // traffic class
  v.length = 40u + payload_length;
  v.payload = v.later_fragment || body.failed() ? std::span<const std::byte>() : body.rest();
  return v;
}

Result<IpView> parse_ip(const NetworkView& network, Snap snap) {
  if (network.ether_type == kEtherTypeIpv4) return parse_ipv4(network.payload, snap);
  if (network.ether_type == kEtherTypeIpv6) return parse_ipv6(network.payload, snap);
  return Error{ErrorCode::Unsupported, "not an IP packet"};
}

Result<UdpView> parse_udp(std::span<const std::byte> segment) {
  ByteReader r(segment);
  UdpView v;
  v.src_port = r.u16be();
  v.dst_port = r.u16be();
  const std::uint16_t length = r.u16be();
  r.skip(2);  // checksum
  if (r.failed()) return truncated("UDP");
  if (length < 8) return Error{ErrorCode::Malformed, "UDP length shorter than its header"};
  if (length > segment.size()) {
    return Error{ErrorCode::Truncated, "UDP length exceeds the captured packet"};
  }
  v.payload = segment.subspan(8, length - 8);
  return v;
}

Result<UdpDatagram> extract_udp(LinkType link, std::span<const std::byte> frame) {
  auto network = parse_link(link, frame);
  if (!network) return std::move(network).error();
  auto ip = parse_ip(*network);
  if (!ip) return std::move(ip).error();
  if (ip->protocol != ip_proto::kUdp) return Error{ErrorCode::Unsupported, "not UDP"};
  auto udp = parse_udp(ip->payload);
  if (!udp) return std::move(udp).error();
  return UdpDatagram{*ip, *udp};
}

Result<PacketSummary> summarize_packet(LinkType link, std::span<const std::byte> frame) {
  auto network = parse_link(link, frame);
  if (!network) return std::move(network).error();
  auto ip = parse_ip(*network, Snap::Allow);
  if (!ip) return std::move(ip).error();
  PacketSummary s;
  s.src = ip->src;
  s.dst = ip->dst;
  s.protocol = ip->protocol;
  s.tos = ip->tos;
  s.vlan = network->vlan;
  s.ip_length = ip->length;
  ByteReader r(ip->payload);  // empty for later fragments: their ports are unknown
  switch (ip->protocol) {
    case ip_proto::kTcp:
    case ip_proto::kUdp:
    case ip_proto::kSctp: {
      std::uint16_t src_port = r.u16be();
      std::uint16_t dst_port = r.u16be();
      if (r.failed()) break;
      s.src_port = src_port;
      s.dst_port = dst_port;
      if (ip->protocol == ip_proto::kTcp) {
        r.skip(9);  // sequence, acknowledgement, data offset (RFC 9293 §3.1)
        std::uint8_t flags = r.u8();
        if (!r.failed()) s.tcp_flags = flags;
      }
      break;
    }
    case ip_proto::kIcmp:
    case ip_proto::kIcmpV6: {
      std::uint8_t type = r.u8();
      std::uint8_t code = r.u8();
      if (!r.failed()) s.dst_port = static_cast<std::uint16_t>(type << 8 | code);
      break;
    }
    default: break;
  }
  return s;
}

}  // namespace flowscope
