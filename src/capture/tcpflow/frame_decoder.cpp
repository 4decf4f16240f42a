#include "capture/tcpflow/frame_decoder.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace flowscope::capture::tcpflow {
namespace {

constexpr int kDltNull = 0;
constexpr int kDltEthernet = 1;
constexpr int kDltIeee802 = 6;
constexpr int kDltPpp = 9;
constexpr int kDltLinuxSll = 113;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((std::uint16_t{p[0]} << 8) | p[1]);
}

FrameKind decode_ip(std::span<const std::uint8_t> ip, TcpPacket& packet) {
  if (ip.empty()) return FrameKind::Unprocessed;
  const int version = ip[0] >> 4;
  if (version == 4) {
    if (ip.size() < 20) return FrameKind::Unprocessed;
    if (ip[9] != 6) return FrameKind::Unprocessed;
    const std::uint32_t total = be16(ip.data() + 2);
    if (be16(ip.data() + 6) & 0x1fff) return FrameKind::Unprocessed;  // a later fragment
    const std::uint32_t header = static_cast<std::uint32_t>(ip[0] & 0x0f) * 4;
    if (header > total) return FrameKind::Unprocessed;
    packet.key.family = 4;
    packet.key.src = {};
    packet.key.dst = {};
    std::memcpy(packet.key.src.data(), ip.data() + 12, 4);
    std::memcpy(packet.key.dst.data(), ip.data() + 16, 4);
    // tcpflow 1.6.1 takes the TCP length from what was captured, not from the IP total length:
    // Ethernet padding after a short segment becomes stream data, and bytes cut by the snap
    // length are simply absent.
    const std::size_t avail = ip.size() > header ? ip.size() - header : 0;
    packet.segment_length = static_cast<std::uint32_t>(avail);
    packet.segment = ip.subspan(std::min<std::size_t>(header, ip.size()), avail);
  } else if (version == 6) {
    if (ip.size() < 40) return FrameKind::Unprocessed;
    if (ip[6] != 6) return FrameKind::Unprocessed;
    packet.key.family = 6;
    std::memcpy(packet.key.src.data(), ip.data() + 8, 16);
    std::memcpy(packet.key.dst.data(), ip.data() + 24, 16);
    packet.segment_length = be16(ip.data() + 4);
    const std::size_t avail = ip.size() - 40;
    packet.segment = ip.subspan(40, std::min<std::size_t>(avail, packet.segment_length));
  } else {
    return FrameKind::Unprocessed;
  }
  if (packet.segment.size() >= 4) {
    packet.key.sport = be16(packet.segment.data());
    packet.key.dport = be16(packet.segment.data() + 2);
  } else {
    packet.key.sport = packet.key.dport = 0;
  }
  return FrameKind::Tcp;
}

}  // namespace

bool link_type_supported(int dlt) {
  switch (dlt) {
    case kDltNull:
    case 12:
    case 14:
    case 101:
    case kDltEthernet:
    case kDltIeee802:
    case kDltPpp:
    case kDltLinuxSll: return true;
    default: return false;
  }
}

std::optional<std::span<const std::uint8_t>> link_payload(int dlt,
                                                          std::span<const std::uint8_t> frame,
                                                          std::int32_t* vlan) {
  switch (dlt) {
    case kDltNull: {
      if (frame.size() < 4) return std::nullopt;
      // tcpflow reads the family from the first byte only: AF_INET (2) or Linux's AF_INET6 (10).
      if (frame[0] != 2 && frame[0] != 10) return std::nullopt;
      return frame.subspan(4);
    }
    case 12:
    case 14:
    case 101: return frame;
    case kDltPpp:
      if (frame.size() < 4) return std::nullopt;
      return frame.subspan(4);
    case kDltLinuxSll: {
      if (frame.size() < 16) return std::nullopt;
      std::size_t caplen = frame.size();
      std::size_t mpls = 0;
      if (be16(frame.data() + 14) == 0x8847) {
        do {
          if (frame.size() < 16 + mpls + 4) return std::nullopt;
          mpls += 4;
          caplen -= 4;
        } while ((frame[16 + mpls - 2] & 1) == 0);
      }
      return frame.subspan(16 + mpls, caplen - 16);
    }
    case kDltEthernet:
    case kDltIeee802: {
      if (frame.size() < 12) return std::nullopt;
      std::size_t caplen = frame.size();
      std::size_t type_at = 12;
      std::size_t data_at = 14;
      if (frame.size() >= 16 && be16(frame.data() + 12) == 0x8100) {
        if (vlan != nullptr) *vlan = be16(frame.data() + 14);
      }
      while (type_at + 2 <= frame.size()) {
        const std::uint16_t t = be16(frame.data() + type_at);
        if (t != 0x8100 && t != 0x9100 && t != 0x88a8) break;
        type_at += 4;
        data_at += 4;
        caplen -= 4;
        if (caplen < 12) return std::nullopt;
      }
      if (caplen < 14 || type_at + 2 > frame.size()) return std::nullopt;
      const std::uint16_t type = be16(frame.data() + type_at);
      if (type != 0x0800 && type != 0x86dd) return std::nullopt;
      return frame.subspan(data_at, caplen - 14);
    }
    default: return std::nullopt;
  }
}

FrameKind decode_frame(int dlt, std::span<const std::uint8_t> frame, std::uint32_t wire_length,
                       PcapTime ts, TcpPacket& packet) {
  packet.ts_raw = ts;
  packet.ts = ts.sec * 1000000 + ts.usec;
  packet.wire_length = wire_length;
  packet.cap_length = static_cast<std::uint32_t>(frame.size());
  packet.vlan = -1;
  // tcpflow reports the first 12 bytes of every frame as MAC addresses, whatever the link type.
  packet.has_mac = frame.size() >= 12;
  if (packet.has_mac) {
    std::memcpy(packet.mac_dst.data(), frame.data(), 6);
    std::memcpy(packet.mac_src.data(), frame.data() + 6, 6);
  }
  const auto ip = link_payload(dlt, frame, &packet.vlan);
  if (!ip) return FrameKind::Ignored;
  return decode_ip(*ip, packet);
}

}  // namespace flowscope::capture::tcpflow
