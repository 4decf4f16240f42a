#include "core/packet_parser.h"

#include <algorithm>

#include "core/byte_reader.h"
#include "core/ip_proto.h"

namespace flowscope {
namespace {

Error truncated(const char* what) {
  return Error{ErrorCode::Truncated, std::string(what) + " header truncated"};
}

const char* link_name(LinkType link) {
  switch (link) {
    case LinkType::Ethernet: return "Ethernet";
    case LinkType::LinuxSll: return "Linux SLL";
    case LinkType::LinuxSll2: return "Linux SLL2";
    case LinkType::Null:
    case LinkType::Loop: return "loopback";
    case LinkType::Ppp: return "PPP";
    default: return "IP";
  }
}

}  // namespace

Result<NetworkView> parse_link(LinkType link, std::span<const std::byte> frame) {
  LinkLayers layers;
  switch (walk_link(link, frame, layers)) {
    case LinkIssue::None: break;
    case LinkIssue::UnsupportedLink:
      return Error{
          ErrorCode::Unsupported,
          "link type " + std::to_string(static_cast<unsigned>(link)) + " is not supported"};
    case LinkIssue::Truncated: return truncated(layers.pppoe ? "PPPoE" : link_name(link));
    case LinkIssue::MplsTruncated: return truncated("MPLS");
    case LinkIssue::BadIpVersion:
      return Error{
          ErrorCode::Malformed,
          "raw IP packet with version " + std::to_string(static_cast<std::uint8_t>(frame[0]) >> 4)};
  }
  if (!is_ip_ether_type(layers.ether_type)) {
    if (link == LinkType::Null || link == LinkType::Loop) {
      return Error{ErrorCode::Unsupported,
                   "loopback address family " + std::to_string(layers.family)};
    }
    if (layers.mpls_labels != 0 && !layers.pseudowire) {
      return Error{ErrorCode::Unsupported, "MPLS payload that is not IP"};
    }
  }
  return NetworkView{layers.ether_type, layers.vlan, layers.payload};
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
  std::span<const std::byte> body =
      packet.subspan(40, std::min<std::size_t>(payload_length, r.remaining()));
  std::size_t offset = 0;
  bool cut = false;
  if (is_ipv6_extension(next)) {  // RFC 8200 §4, walked as core/packet_layers.h does
    Ipv6Extensions ext;
    walk_ipv6_extensions(next, body, ext);
    if (ext.fragment && snap == Snap::Strict) {
      return Error{ErrorCode::Unsupported, "IPv6 fragment"};
    }
    v.later_fragment = ext.later_fragment;
    cut = ext.cut || ext.offset > body.size();
    if (cut) {
      if (snap == Snap::Strict) return truncated("IPv6 extension");
      v.truncated = true;
    }
    next = ext.next;
    offset = ext.offset;
  }
  v.src = IpAddress::v6_bytes(std::span<const std::byte, 16>(src.data(), 16));
  v.dst = IpAddress::v6_bytes(std::span<const std::byte, 16>(dst.data(), 16));
  v.protocol = next;
  v.tos = static_cast<std::uint8_t>(first >> 20);  // traffic class
  v.length = 40u + payload_length;
  v.payload = v.later_fragment || cut ? std::span<const std::byte>() : body.subspan(offset);
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
