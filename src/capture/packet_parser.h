#pragma once
// Layer-by-layer packet parsing from a borrowed frame (STYLE.md §5): link layer (Ethernet with
// 802.1Q/QinQ tags, Linux cooked SLL/SLL2, BSD loopback, raw IP), IPv4 and IPv6 (with extension
// headers), then UDP. Each layer is a function over a span that returns a view of the next
// layer or an Error, so a bad length in one layer cannot spill into the next. The F3 packet
// parser grows from here (TCP, tunnels).
//
// Pure functions over spans; any thread. The returned spans point into the frame.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/ip_address.h"
#include "core/result.h"

namespace flowscope::capture {

// Link types by their pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
enum class LinkType : std::uint16_t {
  Null = 0,        // BSD loopback: 4-byte host-order address family
  Ethernet = 1,
  Raw = 101,       // raw IPv4 or IPv6, version from the first nibble
  Loop = 108,      // OpenBSD loopback: 4-byte network-order address family
  LinuxSll = 113,
  Ipv4 = 228,
  Ipv6 = 229,
  LinuxSll2 = 276,
};

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88A8;

// The network-layer payload of a frame.
struct NetworkView {
  std::uint16_t ether_type = 0;  // kEtherTypeIpv4 / kEtherTypeIpv6
  std::uint16_t vlan = 0;        // outermost 802.1Q id, 0 when untagged
  std::span<const std::byte> payload;
};

struct IpView {
  IpAddress src;
  IpAddress dst;
  std::uint8_t protocol = 0;  // after IPv6 extension headers
  std::span<const std::byte> payload;  // bounded by the IP total/payload length
};

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
Result<IpView> parse_ipv4(std::span<const std::byte> packet);
Result<IpView> parse_ipv6(std::span<const std::byte> packet);
Result<IpView> parse_ip(const NetworkView& network);
// A UDP payload shorter than the UDP length field (a short snaplen) is Truncated.
Result<UdpView> parse_udp(std::span<const std::byte> segment);

// All layers: the UDP datagram in a frame, or why there is none.
Result<UdpDatagram> extract_udp(LinkType link, std::span<const std::byte> frame);

}  // namespace flowscope::capture
