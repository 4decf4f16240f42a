#pragma once
// One-pass decoding of a captured frame into what a flow meter needs (capture/flow_meter.h):
// addresses, ports, protocol, ToS, VLAN, TCP sequence/ack/window/flags, IP fragment identity,
// and the transport payload. The link layers and IPv6 extension headers are walked by the one
// layered decoder, core/packet_layers.h (docs/architecture.md, "Packet decoding"). Tunnels are
// opened, and the flow is the inner one: IP-in-IP (4), IPv6-in-IP (41), GRE version 0 (RFC
// 2784/2890) carrying IPv4, IPv6, MPLS or Ethernet (transparent bridging). GRE version 1 (PPTP)
// is a flow on protocol 47 itself.
//
// Unlike core/packet_parser.h, which returns Result<> views with messages for collectors, this
// path never allocates: a packet that cannot be metered comes back as a named PacketIssue, which
// the meter counts (Zeek's "weird" names, docs/conventions.md "Errors"). A frame cut short by the
// snap length is fine as long as the addresses (and ports, for TCP/UDP) were captured.
//
// Pure function over a borrowed span; any thread. `payload` points into the frame.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/ip_address.h"
#include "core/packet_layers.h"

namespace flowscope {

// Why a frame yields no flow packet. NotIp is ordinary traffic (ARP, LLDP, STP) the meter does
// not count as malformed; every other kind is malformed or unsupported input.
enum class PacketIssue : std::uint8_t {
  None = 0,
  NotIp,
  UnsupportedLink,
  LinkTruncated,
  MplsTruncated,
  Ipv4Truncated,
  Ipv4BadHeader,  // version or IHL wrong
  Ipv4BadLength,  // total length shorter than the header
  Ipv6Truncated,
  Ipv6BadHeader,       // version not 6
  Ipv6ExtTruncated,    // an extension header cut short or longer than the payload
  TransportTruncated,  // TCP/UDP ports cut off
  TcpBadOffset,        // data offset < 5 words
  UdpBadLength,        // UDP length < 8
  GreBad,              // GRE header cut short, or a reserved version
  TunnelTooDeep,       // more nested tunnels than kMaxTunnelDepth
  kCount
};
inline constexpr std::size_t kPacketIssueCount = static_cast<std::size_t>(PacketIssue::kCount);
// "ipv4_truncated", ...: the names that summaries and docs/capture.md use.
std::string_view packet_issue_name(PacketIssue issue);

inline constexpr int kMaxTunnelDepth = 4;

struct FlowPacket {
  IpAddress src;
  IpAddress dst;
  std::uint16_t src_port = 0;  // ICMP: 0
  std::uint16_t dst_port = 0;  // ICMP/ICMPv6: type * 256 + code (as NetFlow v5)
  std::uint8_t protocol = 0;
  std::uint8_t tos = 0;
  std::uint8_t tcp_flags = 0;
  std::uint8_t tunnels = 0;  // tunnel headers opened to reach this packet
  std::uint16_t vlan = 0;    // outermost 802.1Q id, 0 when untagged
  bool ipv6 = false;
  bool snapped = false;  // the capture holds less than the IP length says
  // IP fragments (RFC 791 / RFC 8200 §4.5). A first fragment carries the ports; later ones do
  // not (ports 0, has_ports false) and are attributed by the meter through fragment_id.
  bool fragment = false;
  bool later_fragment = false;
  bool has_ports = false;  // TCP/UDP/SCTP ports were read
  std::uint32_t fragment_id = 0;
  std::uint32_t ip_length = 0;  // declared layer-3 length of the (inner) IP packet
  // TCP (valid when protocol == 6 and tcp_header is true)
  bool tcp_header = false;  // the whole fixed TCP header was captured
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 0;
  std::uint32_t payload_length = 0;    // transport payload by the IP length (not the capture)
  std::span<const std::byte> payload;  // the captured part of the transport payload
  std::span<const std::byte> ip;       // the (innermost) IP packet as captured, header first
};

// Decodes `frame` into `out`. Returns PacketIssue::None when `out` holds a flow packet.
PacketIssue decode_flow_packet(LinkType link, std::span<const std::byte> frame, FlowPacket& out);

}  // namespace flowscope
