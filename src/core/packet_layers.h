#pragma once
// The one layered packet decoder (docs/architecture.md, "Packet decoding"): the link layers of a
// borrowed frame down to its network layer, the IPv6 extension headers, and the GRE header the
// probe opens tunnels through. Link layers: Ethernet with any number of 802.1Q / 802.1ad / 0x9100
// tags, MPLS label stacks (RFC 3032, a pseudowire control word followed by Ethernet), PPPoE
// sessions (RFC 2516), PPP in HDLC-like framing, Linux cooked SLL/SLL2, BSD loopback (both byte
// orders), raw IP. A new encapsulation is added here, once, and reaches all three consumers:
// core/packet_parser.h (Result<> views for collectors and sFlow's sampled headers),
// core/flow_packet.h (the probe's named issues, tunnels, fragments) and
// capture/tcpflow/frame_decoder.h (tcpflow's frames). Each keeps its own output shape and its own
// policy for what it does with a layer it does not use.
//
// Nothing allocates, nothing throws: a walk returns a LinkIssue and fills a caller-owned struct.
// The hot functions are inline so that the probe's per-packet path stays one pass. Pure
// functions over spans; any thread. Returned spans point into the frame.

#include <cstddef>
#include <cstdint>
#include <span>

namespace flowscope {

// Link types by their pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
enum class LinkType : std::uint16_t {
  Null = 0,  // BSD loopback: 4-byte host-order address family
  Ethernet = 1,
  Ppp = 9,     // PPP in HDLC-like framing: address, control, 2-byte protocol (RFC 1662)
  Raw = 101,   // raw IPv4 or IPv6, version from the first nibble
  Loop = 108,  // OpenBSD loopback: 4-byte network-order address family
  LinuxSll = 113,
  Ipv4 = 228,
  Ipv6 = 229,
  LinuxSll2 = 276,
};

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88A8;
inline constexpr std::uint16_t kEtherTypeQinQOld = 0x9100;  // pre-802.1ad stacked tags
inline constexpr std::uint16_t kEtherTypeMpls = 0x8847;
inline constexpr std::uint16_t kEtherTypeMplsMulticast = 0x8848;
inline constexpr std::uint16_t kEtherTypePppoeSession = 0x8864;
inline constexpr std::uint16_t kEtherTypeTeb = 0x6558;  // transparent Ethernet bridging

// Why a link-layer walk stopped short of a network layer. A payload that is not IP is not an
// issue: the walk returns it with its ether type, and each consumer decides.
enum class LinkIssue : std::uint8_t {
  None = 0,
  UnsupportedLink,  // a link type not decoded here
  Truncated,        // a link header (Ethernet, tag, PPPoE, PPP, SLL, loopback) cut short
  MplsTruncated,    // the label stack cut short, or nothing after it
  BadIpVersion,     // a raw IP frame whose first nibble is neither 4 nor 6 (payload: the frame)
};

// What the link layers of a frame hold.
struct LinkLayers {
  std::span<const std::byte> payload;  // the network layer
  // kEtherTypeIpv4 / kEtherTypeIpv6 when the payload is IP (by the ether type, the PPP
  // protocol, the loopback family or, after MPLS, the first nibble). Otherwise the type as
  // found, 0 where the layer names none (an unknown family, PPP protocol or MPLS payload), or
  // kEtherTypeTeb for Ethernet inside a second pseudowire (not opened).
  std::uint16_t ether_type = 0;
  std::uint16_t vlan = 0;            // the outermost non-zero 802.1Q id, 0 when untagged
  std::uint16_t first_tag_type = 0;  // the outermost tag's ether type (0 when untagged) ...
  std::uint16_t first_tci = 0;       // ... and its whole tag control word
  std::uint8_t mpls_labels = 0;      // labels walked (saturates at 255)
  bool pppoe = false;
  bool pseudowire = false;   // Ethernet inside MPLS was opened
  std::uint32_t family = 0;  // the loopback address family (Null, Loop)
};

namespace layers_detail {
inline std::uint8_t u8(const std::byte* p) { return static_cast<std::uint8_t>(*p); }
inline std::uint16_t u16(const std::byte* p) {
  return static_cast<std::uint16_t>((unsigned{u8(p)} << 8) | u8(p + 1));
}
inline std::uint32_t u32(const std::byte* p) {
  return (std::uint32_t{u8(p)} << 24) | (std::uint32_t{u8(p + 1)} << 16) |
         (std::uint32_t{u8(p + 2)} << 8) | u8(p + 3);
}
// PPP protocol numbers (RFC 1332, RFC 5072) as ether types; 0 for any other.
inline std::uint16_t ppp_ether_type(std::uint16_t protocol) {
  return protocol == 0x0021 ? kEtherTypeIpv4 : protocol == 0x0057 ? kEtherTypeIpv6 : 0;
}
}  // namespace layers_detail

constexpr bool is_vlan_tag(std::uint16_t type) {
  return type == kEtherTypeVlan || type == kEtherTypeQinQ || type == kEtherTypeQinQOld;
}
constexpr bool is_ip_ether_type(std::uint16_t type) {
  return type == kEtherTypeIpv4 || type == kEtherTypeIpv6;
}

// RFC 3032: labels until the bottom-of-stack bit; the payload has no type field, so it is IPv4
// or IPv6 by its first nibble, or (nibble 0) a pseudowire control word and Ethernet, opened
// unless `nested` (already inside a pseudowire). Out of line: MPLS is the rarer path, and the
// inline walk below hands it a copy so that its own LinkLayers can stay in registers.
LinkIssue walk_mpls(std::span<const std::byte> b, LinkLayers& out, bool nested = false);

// What follows a link header's ether type (Ethernet after its tags, SLL, SLL2): MPLS and PPPoE
// are walked, anything else is the payload.
inline LinkIssue walk_ether_type(std::uint16_t type, std::span<const std::byte> b, LinkLayers& out,
                                 bool nested) {
  using namespace layers_detail;
  if (is_ip_ether_type(type)) {  // the common case first
    out.ether_type = type;
    out.payload = b;
    return LinkIssue::None;
  }
  if (type == kEtherTypeMpls || type == kEtherTypeMplsMulticast) {
    LinkLayers copy = out;
    const LinkIssue issue = walk_mpls(b, copy, nested);
    out = copy;
    return issue;
  }
  if (type == kEtherTypePppoeSession) {
    // RFC 2516: 6-byte PPPoE header, then the 2-byte PPP protocol.
    if (b.size() < 8) return LinkIssue::Truncated;
    out.pppoe = true;
    out.ether_type = ppp_ether_type(u16(b.data() + 6));
    out.payload = b.subspan(8);
    return LinkIssue::None;
  }
  out.ether_type = type;
  out.payload = b;
  return LinkIssue::None;
}

// Ethernet II with any number of tags. The tags of a `nested` frame (Ethernet inside a
// pseudowire or GRE) do not set `vlan` or the first tag.
inline LinkIssue walk_ethernet(std::span<const std::byte> b, LinkLayers& out, bool nested = false) {
  using namespace layers_detail;
  if (b.size() < 14) return LinkIssue::Truncated;
  std::size_t pos = 14;
  std::uint16_t type = u16(b.data() + 12);
  while (is_vlan_tag(type)) {
    if (b.size() < pos + 4) return LinkIssue::Truncated;
    const std::uint16_t tci = u16(b.data() + pos);
    if (!nested) {
      if (out.first_tag_type == 0) {
        out.first_tag_type = type;
        out.first_tci = tci;
      }
      if (out.vlan == 0) out.vlan = tci & 0x0FFF;
    }
    type = u16(b.data() + pos + 2);
    pos += 4;
  }
  return walk_ether_type(type, b.subspan(pos), out, nested);
}

// All link layers of a frame. `out` should start default-constructed.
inline LinkIssue walk_link(LinkType link, std::span<const std::byte> frame, LinkLayers& out) {
  using namespace layers_detail;
  switch (link) {
    case LinkType::Ethernet: return walk_ethernet(frame, out);
    case LinkType::LinuxSll:
      // packet type, ARPHRD, address length, 8 address bytes, protocol (all big-endian).
      if (frame.size() < 16) return LinkIssue::Truncated;
      return walk_ether_type(u16(frame.data() + 14), frame.subspan(16), out, false);
    case LinkType::LinuxSll2:
      // protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes.
      if (frame.size() < 20) return LinkIssue::Truncated;
      return walk_ether_type(u16(frame.data()), frame.subspan(20), out, false);
    case LinkType::Null:
    case LinkType::Loop: {
      if (frame.size() < 4) return LinkIssue::Truncated;
      // DLT_NULL is in the capturing host's order, DLT_LOOP in network order: accept both.
      std::uint32_t af =
          std::uint32_t{u8(frame.data())} | std::uint32_t{u8(frame.data() + 1)} << 8 |
          std::uint32_t{u8(frame.data() + 2)} << 16 | std::uint32_t{u8(frame.data() + 3)} << 24;
      if (af > 0xFFFF) af = __builtin_bswap32(af);
      out.family = af;
      // AF_INET, and the values BSDs and Linux use for AF_INET6.
      out.ether_type = af == 2                                        ? kEtherTypeIpv4
                       : af == 10 || af == 24 || af == 28 || af == 30 ? kEtherTypeIpv6
                                                                      : 0;
      out.payload = frame.subspan(4);
      return LinkIssue::None;
    }
    case LinkType::Ppp:
      if (frame.size() < 4) return LinkIssue::Truncated;
      out.ether_type = ppp_ether_type(u16(frame.data() + 2));
      out.payload = frame.subspan(4);
      return LinkIssue::None;
    case LinkType::Raw: {
      if (frame.empty()) return LinkIssue::Truncated;
      const unsigned version = u8(frame.data()) >> 4;
      out.payload = frame;
      if (version == 4) {
        out.ether_type = kEtherTypeIpv4;
      } else if (version == 6) {
        out.ether_type = kEtherTypeIpv6;
      } else {
        return LinkIssue::BadIpVersion;
      }
      return LinkIssue::None;
    }
    case LinkType::Ipv4:
      out.ether_type = kEtherTypeIpv4;
      out.payload = frame;
      return LinkIssue::None;
    case LinkType::Ipv6:
      out.ether_type = kEtherTypeIpv6;
      out.payload = frame;
      return LinkIssue::None;
  }
  return LinkIssue::UnsupportedLink;
}

// RFC 8200 §4: hop-by-hop (0), routing (43), fragment (44), destination options (60) and
// authentication (51, RFC 4302) headers.
constexpr bool is_ipv6_extension(std::uint8_t next) {
  return next == 0 || next == 43 || next == 44 || next == 60 || next == 51;
}

// The IPv6 extension headers that precede a transport header.
struct Ipv6Extensions {
  std::uint8_t next = 0;        // the header after those walked (an extension header when `cut`)
  std::size_t offset = 0;       // where it starts, counted from the end of the fixed header
  bool cut = false;             // an extension header's first 8 bytes were not in `bytes`
  bool fragment = false;        // a fragment header with an offset or more-fragments set
  bool later_fragment = false;  // ... with a non-zero offset (the walk stops there)
  std::uint32_t fragment_id = 0;
};
// Walks at most 8 headers from `next` over `bytes` (what follows the fixed header, as far as it
// was captured and declared). `offset` may pass the end of `bytes` when a header's declared
// length does; the caller decides whether that is truncation.
void walk_ipv6_extensions(std::uint8_t next, std::span<const std::byte> bytes, Ipv6Extensions& out);

// RFC 2784 / RFC 2890 GRE: what the probe does with a GRE packet.
enum class GreIssue : std::uint8_t {
  None = 0,       // opened: `inner` holds the network layer (IPv4, IPv6, or kEtherTypeTeb)
  NotOpened,      // PPTP's enhanced GRE (version 1) or a protocol not opened: meter the outer
  Bad,            // cut short, or a reserved version
  MplsTruncated,  // GRE carrying MPLS whose label stack is cut short
  Truncated,      // GRE carrying MPLS with a pseudowire whose Ethernet is cut short
};
// Version 0: flags, protocol type, then optional checksum, key and sequence number words.
// IPv4 and IPv6 are returned, Ethernet (kEtherTypeTeb) is returned unopened, MPLS is walked.
GreIssue walk_gre(std::span<const std::byte> b, LinkLayers& inner);

}  // namespace flowscope
