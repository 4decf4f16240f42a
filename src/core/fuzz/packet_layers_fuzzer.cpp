// libFuzzer target: the layered packet decoder (core/packet_layers.h) and the two core decoders
// over it. Input: one byte choosing the link type, then the frame. Beyond "no crash", it checks
// that every span a walk returns lies inside the frame, that the probe's decoder and the
// collectors' parser find the same link-layer payload and VLAN for the outer packet, and that
// the IPv6 extension walk ends inside what it declares.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/flow_packet.h"
#include "core/packet_layers.h"
#include "core/packet_parser.h"

namespace {

using namespace flowscope;

constexpr LinkType kLinks[] = {LinkType::Null, LinkType::Ethernet, LinkType::Ppp,
                               LinkType::Raw,  LinkType::Loop,     LinkType::LinuxSll,
                               LinkType::Ipv4, LinkType::Ipv6,     LinkType::LinuxSll2};

void check_inside(std::span<const std::byte> part, std::span<const std::byte> frame) {
  if (part.empty()) return;
  if (part.data() < frame.data() || part.data() + part.size() > frame.data() + frame.size()) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const LinkType link = kLinks[data[0] % std::size(kLinks)];
  const std::span<const std::byte> frame(reinterpret_cast<const std::byte*>(data + 1), size - 1);

  LinkLayers layers;
  const LinkIssue issue = walk_link(link, frame, layers);
  if (issue == LinkIssue::None) check_inside(layers.payload, frame);

  auto network = parse_link(link, frame);
  if (network) {
    check_inside(network->payload, frame);
    if (issue != LinkIssue::None || network->payload.data() != layers.payload.data() ||
        network->vlan != layers.vlan) {
      __builtin_trap();
    }
    if (auto ip = parse_ip(*network, Snap::Allow)) check_inside(ip->payload, frame);
  }
  (void)summarize_packet(link, frame);
  (void)extract_udp(link, frame);

  FlowPacket p;
  if (decode_flow_packet(link, frame, p) == PacketIssue::None) {
    check_inside(p.payload, frame);
    check_inside(p.ip, frame);
    if (p.tunnels == 0 && p.vlan != layers.vlan) __builtin_trap();
  }

  // The IPv6 extension walk and GRE straight over the bytes.
  Ipv6Extensions ext;
  walk_ipv6_extensions(static_cast<std::uint8_t>(data[0]), frame, ext);
  if (!ext.cut && ext.offset > frame.size() + 8 * 2048) __builtin_trap();
  LinkLayers inner;
  if (walk_gre(frame, inner) == GreIssue::None) check_inside(inner.payload, frame);
  return 0;
}
