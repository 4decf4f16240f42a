#pragma once
// Layer-by-layer packet parsing from a borrowed frame (docs/conventions.md "Parsing wire
// formats") for collectors and sFlow's
// sampled headers: the link layers as core/packet_layers.h walks them (docs/architecture.md,
// "Packet decoding"), IPv4 and IPv6 (extension headers by the same walk), then UDP, TCP and ICMP.
// Each layer is a function over a span that returns a view of the next layer or an Error, so a
// bad length in one layer cannot spill into the next. Tunnels are not opened: a summary describes
// the packet as it was sampled.
//
// Pure functions over spans; any thread. The returned spans point into the frame.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/ip_address.h"
#include "core/packet_layers.h"
#include "core/result.h"

namespace flowscope {

// The network-layer payload of a frame.
struct NetworkView {
  std::uint16_t ether_type = 0;  // kEtherTypeIpv4 / kEtherTypeIpv6
  std::uint16_t vlan = 0;        // outermost 802.1Q id, 0 when untagged
  std::span<const std::byte> payload;
};

struct IpView {
  IpAddress src;
  IpAddress dst;
  std::uint8_t protocol = 0;           // after IPv6 extension headers
  std::uint8_t tos = 0;                // IPv4 type of service, IPv6 traffic class
  std::uint32_t length = 0;            // the declared layer-3 length (header and payload)
  bool truncated = false;              // the capture holds less than `length` (Snap::Allow only)
  bool later_fragment = false;         // a fragment other than the first (Snap::Allow only)
  std::span<const std::byte> payload;  // bounded by the IP length and by what was captured
};

// Whether a packet cut short by the capture (a snap length, sFlow's sampled header) is an
// error (Strict: collectors need whole datagrams) or fine (Allow: the headers are enough).
enum class Snap : std::uint8_t { Strict, Allow };

struct UdpView {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::span<const std::byte> payload;
};

// A UDP datagram with its addresses: what flow collectors receive.
struct UdpDatagram {
  IpView ip;
  UdpView udp;
};

Result<NetworkView> parse_link(LinkType link, std::span<const std::byte> frame);
// Fragments other than a complete first fragment are refused (Unsupported): flow export that
// is fragmented needs reassembly, which F3 adds.
// With Snap::Allow, later fragments are returned too (payload empty, later_fragment set).
Result<IpView> parse_ipv4(std::span<const std::byte> packet, Snap snap = Snap::Strict);
Result<IpView> parse_ipv6(std::span<const std::byte> packet, Snap snap = Snap::Strict);
Result<IpView> parse_ip(const NetworkView& network, Snap snap = Snap::Strict);
// A UDP payload shorter than the UDP length field (a short snaplen) is Truncated.
Result<UdpView> parse_udp(std::span<const std::byte> segment);

// All layers: the UDP datagram in a frame, or why there is none.
Result<UdpDatagram> extract_udp(LinkType link, std::span<const std::byte> frame);

// What a packet's headers say about its flow, from a frame that may be cut short anywhere after
// the IP addresses (sFlow samples the first 128 bytes; probes use a snap length). Transport
// fields that were cut off stay zero. ICMP and ICMPv6 put type * 256 + code in dst_port, as
// NetFlow v5 does.
struct PacketSummary {
  IpAddress src;
  IpAddress dst;
  std::uint8_t protocol = 0;
  std::uint8_t tos = 0;
  std::uint8_t tcp_flags = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t vlan = 0;       // outermost 802.1Q id, 0 when untagged
  std::uint32_t ip_length = 0;  // the declared layer-3 length
};
Result<PacketSummary> summarize_packet(LinkType link, std::span<const std::byte> frame);

}  // namespace flowscope
