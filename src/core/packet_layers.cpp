#include "core/packet_layers.h"

namespace flowscope {

using layers_detail::u16;
using layers_detail::u32;
using layers_detail::u8;

LinkIssue walk_mpls(std::span<const std::byte> b, LinkLayers& out, bool nested) {
  std::size_t pos = 0;
  for (;;) {
    if (b.size() < pos + 4) return LinkIssue::MplsTruncated;
    const std::uint32_t label = u32(b.data() + pos);
    pos += 4;
    if (out.mpls_labels != 255) ++out.mpls_labels;
    if ((label & 0x100) != 0) break;
  }
  if (b.size() <= pos) return LinkIssue::MplsTruncated;
  const unsigned nibble = u8(b.data() + pos) >> 4;
  out.payload = b.subspan(pos);
  out.ether_type = nibble == 4 ? kEtherTypeIpv4 : nibble == 6 ? kEtherTypeIpv6 : 0;
  if (nibble == 0) {
    const auto ethernet = b.subspan(pos + 4 <= b.size() ? pos + 4 : b.size());
    if (nested) {
      out.ether_type = kEtherTypeTeb;
      out.payload = ethernet;
      return LinkIssue::None;
    }
    out.pseudowire = true;
    return walk_ethernet(ethernet, out, true);
  }
  return LinkIssue::None;
}

void walk_ipv6_extensions(std::uint8_t next, std::span<const std::byte> bytes,
                          Ipv6Extensions& out) {
  out = Ipv6Extensions{};
  std::size_t pos = 0;
  for (int hop = 0; hop < 8 && is_ipv6_extension(next); ++hop) {
    if (bytes.size() < pos + 8) {
      out.cut = true;
      break;
    }
    const std::byte* p = bytes.data() + pos;
    const std::uint8_t following = u8(p);
    std::size_t length;
    if (next == 44) {
      const std::uint16_t offset_flags = u16(p + 2);
      out.fragment = (offset_flags & 0xFFF9) != 0;  // offset, or the M flag
      out.later_fragment = (offset_flags & 0xFFF8) != 0;
      out.fragment_id = u32(p + 4);
      length = 8;
    } else if (next == 51) {
      length = (std::size_t{u8(p + 1)} + 2) * 4;  // RFC 4302: in 4-byte words, minus 2
    } else {
      length = (std::size_t{u8(p + 1)} + 1) * 8;
    }
    pos += length;
    next = following;
    if (out.later_fragment) break;  // what follows is the middle of another packet
  }
  out.next = next;
  out.offset = pos;
}

GreIssue walk_gre(std::span<const std::byte> b, LinkLayers& inner) {
  if (b.size() < 4) return GreIssue::Bad;
  const std::uint16_t flags = u16(b.data());
  const unsigned version = flags & 0x7;
  if (version == 1) return GreIssue::NotOpened;  // PPTP enhanced GRE: metered as protocol 47
  if (version != 0) return GreIssue::Bad;
  std::size_t pos = 4;
  if (flags & 0x8000) pos += 4;  // checksum and reserved
  if (flags & 0x2000) pos += 4;  // key
  if (flags & 0x1000) pos += 4;  // sequence number
  if (b.size() < pos) return GreIssue::Bad;
  const std::uint16_t type = u16(b.data() + 2);
  if (is_ip_ether_type(type) || type == kEtherTypeTeb) {
    inner.ether_type = type;
    inner.payload = b.subspan(pos);
    return GreIssue::None;
  }
  if (type != kEtherTypeMpls) return GreIssue::NotOpened;
  switch (walk_mpls(b.subspan(pos), inner)) {
    case LinkIssue::None: break;
    case LinkIssue::MplsTruncated: return GreIssue::MplsTruncated;
    default: return GreIssue::Truncated;
  }
  // An MPLS payload that is not IP is not opened; Ethernet in a pseudowire is, whatever it holds.
  if (!inner.pseudowire && !is_ip_ether_type(inner.ether_type)) return GreIssue::NotOpened;
  return GreIssue::None;
}

}  // namespace flowscope
