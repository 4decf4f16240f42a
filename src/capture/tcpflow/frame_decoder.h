#pragma once
// Frames to TCP segments the way tcpflow 1.6.1's datalink handlers and IP layer read them, so
// the same packets make the same flows. The link layers are walked by the one layered decoder,
// core/packet_layers.h (docs/architecture.md, "Packet decoding"): Ethernet (any number of
// 802.1Q/802.1ad/0x9100 tags; the flow's VLAN is the raw 16-bit tag control word of an outer
// 0x8100 tag) with MPLS, a pseudowire's Ethernet or PPPoE, PPP, Linux SLL and SLL2, DLT_LOOP,
// raw IP (link types 12, 14, 101); BSD null with tcpflow's rule (only the first byte is read as
// the family, 2 or 10). IPv4 without fragments after the first; IPv6 whose extension headers
// (walked by the same decoder) lead to TCP, not a later fragment. The TCP length comes from the
// IP header; bytes past the capture are not invented (the reassembler seeks over them).
// docs/tcpflow.md lists what goes beyond tcpflow 1.6.1.
//
// Pure functions; any thread.

#include <cstdint>
#include <optional>
#include <span>

#include "capture/tcp_reassembler.h"

namespace flowscope::capture::tcpflow {

enum class FrameKind : std::uint8_t {
  Tcp,          // `packet` holds a TCP segment
  Unprocessed,  // an IP packet tcpflow does not use (written with -w)
  Ignored,      // dropped at the link layer (not IP, cut short); not written with -w
};

// Whether tcpflow 1.6.1 has a handler for this pcap link type.
bool link_type_supported(int dlt);

// The IP bytes of a frame that tcpflow's datalink handler passes on (IP/IPv6 Ethernet types
// after any tags, MPLS or PPPoE, BSD null families 2/10, raw IP, PPP, SLL/SLL2 whatever their
// protocol), nullopt when it drops it.
// `vlan` (may be null) receives the outer 802.1Q tag control word.
std::optional<std::span<const std::uint8_t>> link_payload(int dlt,
                                                          std::span<const std::uint8_t> frame,
                                                          std::int32_t* vlan);

// `ts` is the capture time as the pcap header has it; wire/cap lengths are the pcap header's.
FrameKind decode_frame(int dlt, std::span<const std::uint8_t> frame, std::uint32_t wire_length,
                       PcapTime ts, TcpPacket& packet);

}  // namespace flowscope::capture::tcpflow
