// One crafted frame per encapsulation through the three entry points of the layered decoder
// (core/packet_layers.h, docs/architecture.md "Packet decoding"): the probe's
// decode_flow_packet, sFlow's summarize_packet and tcpflow's decode_frame. Each must find the
// same addresses, ports and payload offsets. Several of these cases were known to only one or
// two of the three decoders before F19 (named per case).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "capture/tcpflow/frame_decoder.h"
#include "core/flow_packet.h"
#include "core/packet_parser.h"
#include "decode/packet_builder.h"

namespace flowscope {
namespace {

using testing::PacketBuilder;

constexpr std::uint16_t kSport = 40000;
constexpr std::uint16_t kDport = 80;
constexpr std::size_t kData = 5;  // TCP payload bytes

void tcp(PacketBuilder& b) {
  b.u16(kSport).u16(kDport).u32(1000).u32(0).u8(5 << 4).u8(0x18).u16(512).u16(0).u16(0);
  for (std::size_t i = 0; i < kData; ++i) b.u8(0x41 + static_cast<std::uint32_t>(i));
}
void ipv4_tcp(PacketBuilder& b) {
  b.u8(0x45).u8(0).u16(20 + 20 + kData).u16(7).u16(0).u8(64).u8(6).u16(0);
  b.ip4(192, 0, 2, 1).ip4(198, 51, 100, 2);
  tcp(b);
}
// IPv6 and TCP, with one extension header before TCP: hop-by-hop (0) or AH (51); 255: none.
void ipv6_tcp(PacketBuilder& b, std::uint8_t extension) {
  const std::size_t ext_length = extension == 255 ? 0 : extension == 51 ? 16 : 8;
  b.u32(0x60000000).u16(static_cast<std::uint32_t>(ext_length + 20 + kData));
  b.u8(extension == 255 ? 6 : extension).u8(64);
  b.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  b.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  if (extension == 51) {
    b.u8(6).u8(2).zeros(14);  // AH: (2 + 2) * 4 bytes
  } else if (extension != 255) {
    b.u8(6).u8(0).zeros(6);
  }
  tcp(b);
}

struct Case {
  std::string name;
  LinkType link;
  std::vector<std::byte> frame;
  std::size_t ip_at = 0;           // where the IP header starts in the frame
  std::size_t tcp_at = 0;          // where the TCP header starts
  std::uint16_t vlan = 0;          // the probe's and sFlow's VLAN id
  std::int32_t tcpflow_vlan = -1;  // tcpflow's: the outer 802.1Q tag control word
  bool ipv6 = false;
};

Case make(std::string name, LinkType link, PacketBuilder& link_header, bool ipv6 = false,
          std::uint8_t extension = 255) {
  Case c{std::move(name), link, {}, link_header.bytes().size()};
  if (ipv6) {
    ipv6_tcp(link_header, extension);
    c.tcp_at = c.ip_at + 40 + (extension == 255 ? 0 : extension == 51 ? 16 : 8);
  } else {
    ipv4_tcp(link_header);
    c.tcp_at = c.ip_at + 20;
  }
  c.ipv6 = ipv6;
  c.frame = link_header.bytes();
  return c;
}

std::vector<Case> cases() {
  std::vector<Case> all;
  auto ethernet = [] {
    PacketBuilder b;
    b.raw({2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2});
    return b;
  };
  {
    auto b = ethernet();
    all.push_back(make("ethernet", LinkType::Ethernet, b.u16(kEtherTypeIpv4)));
  }
  {
    auto b = ethernet();
    auto c = make("802.1Q", LinkType::Ethernet, b.u16(0x8100).u16(0x2064).u16(kEtherTypeIpv4));
    c.vlan = 100, c.tcpflow_vlan = 0x2064;
    all.push_back(c);
  }
  {
    auto b = ethernet();
    b.u16(0x88A8).u16(10).u16(0x8100).u16(20).u16(kEtherTypeIpv4);
    auto c = make("QinQ 802.1ad", LinkType::Ethernet, b);
    c.vlan = 10;  // tcpflow reports the tag only when the outer one is 802.1Q
    all.push_back(c);
  }
  {
    auto b = ethernet();  // before F19 only tcpflow knew the 0x9100 tag
    auto c = make("QinQ 0x9100", LinkType::Ethernet, b.u16(0x9100).u16(30).u16(kEtherTypeIpv4));
    c.vlan = 30;
    all.push_back(c);
  }
  {
    auto b = ethernet();  // before F19 tcpflow ignored MPLS over Ethernet
    b.u16(kEtherTypeMpls).u32(100 << 12 | 64).u32(200 << 12 | 0x100 | 64);
    all.push_back(make("MPLS", LinkType::Ethernet, b));
  }
  {
    auto b = ethernet();  // before F19 only the probe opened a pseudowire
    b.u16(kEtherTypeMpls).u32(300 << 12 | 0x100 | 64).u32(0);  // control word
    b.raw({2, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 4}).u16(0x8100).u16(77).u16(kEtherTypeIpv4);
    all.push_back(make("MPLS pseudowire Ethernet", LinkType::Ethernet, b));  // inner tag: no VLAN
  }
  {
    auto b = ethernet();  // before F19 only the probe knew PPPoE
    b.u16(kEtherTypePppoeSession).u8(0x11).u8(0).u16(1).u16(20 + 20 + kData + 2).u16(0x0021);
    all.push_back(make("PPPoE", LinkType::Ethernet, b));
  }
  {
    auto b = ethernet();  // before F19 tcpflow took only TCP right after the IPv6 header
    all.push_back(make("IPv6 hop-by-hop", LinkType::Ethernet, b.u16(kEtherTypeIpv6), true, 0));
  }
  {
    auto b = ethernet();  // before F19 sFlow's summary stopped at AH (protocol 51)
    all.push_back(make("IPv6 AH", LinkType::Ethernet, b.u16(kEtherTypeIpv6), true, 51));
  }
  {
    PacketBuilder b;
    b.u16(0).u16(1).u16(6).zeros(8).u16(kEtherTypeIpv4);
    all.push_back(make("Linux SLL", LinkType::LinuxSll, b));
  }
  {
    PacketBuilder b;  // before F19 only tcpflow walked MPLS after SLL
    b.u16(0).u16(1).u16(6).zeros(8).u16(kEtherTypeMpls).u32(5 << 12 | 0x100 | 64);
    all.push_back(make("Linux SLL MPLS", LinkType::LinuxSll, b));
  }
  {
    PacketBuilder b;  // before F19 tcpflow had no handler for SLL2
    b.u16(kEtherTypeIpv6).u16(0).u32(2).u16(1).u8(0).u8(6).zeros(8);
    all.push_back(make("Linux SLL2", LinkType::LinuxSll2, b, true));
  }
  {
    PacketBuilder b;
    all.push_back(make("BSD null", LinkType::Null, b.raw({2, 0, 0, 0})));
  }
  {
    PacketBuilder b;  // before F19 tcpflow had no handler for DLT_LOOP
    all.push_back(make("OpenBSD loop", LinkType::Loop, b.u32(24), true));
  }
  {
    PacketBuilder b;  // before F19 only tcpflow knew PPP
    all.push_back(make("PPP", LinkType::Ppp, b.u8(0xFF).u8(0x03).u16(0x0021)));
  }
  {
    PacketBuilder b;
    all.push_back(make("raw IP", LinkType::Raw, b));
  }
  return all;
}

TEST(PacketDecoders, EveryEncapsulationThroughAllThree) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const std::string src = c.ipv6 ? "2001:db8::1" : "192.0.2.1";
    const std::string dst = c.ipv6 ? "2001:db8::2" : "198.51.100.2";
    const std::byte* base = c.frame.data();

    FlowPacket p;
    ASSERT_EQ(decode_flow_packet(c.link, c.frame, p), PacketIssue::None);
    EXPECT_EQ(p.src.to_string(), src);
    EXPECT_EQ(p.dst.to_string(), dst);
    EXPECT_EQ(p.src_port, kSport);
    EXPECT_EQ(p.dst_port, kDport);
    EXPECT_EQ(p.protocol, 6);
    EXPECT_EQ(p.vlan, c.vlan);
    EXPECT_EQ(p.ip.data() - base, static_cast<std::ptrdiff_t>(c.ip_at));
    EXPECT_EQ(p.payload.data() - base, static_cast<std::ptrdiff_t>(c.tcp_at + 20));
    EXPECT_EQ(p.payload.size(), kData);

    auto s = summarize_packet(c.link, c.frame);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(s->src.to_string(), src);
    EXPECT_EQ(s->dst.to_string(), dst);
    EXPECT_EQ(s->src_port, kSport);
    EXPECT_EQ(s->dst_port, kDport);
    EXPECT_EQ(s->protocol, 6);
    EXPECT_EQ(s->tcp_flags, 0x18);
    EXPECT_EQ(s->vlan, c.vlan);
    auto net = parse_link(c.link, c.frame);
    ASSERT_TRUE(net.has_value());
    EXPECT_EQ(net->payload.data() - base, static_cast<std::ptrdiff_t>(c.ip_at));

    const int dlt = static_cast<int>(c.link);
    ASSERT_TRUE(capture::tcpflow::link_type_supported(dlt));
    capture::TcpPacket t;
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(base),
                                              c.frame.size());
    ASSERT_EQ(capture::tcpflow::decode_frame(dlt, bytes, static_cast<std::uint32_t>(bytes.size()),
                                             capture::PcapTime{1, 0}, t),
              capture::tcpflow::FrameKind::Tcp);
    EXPECT_EQ(t.key.family, c.ipv6 ? 6 : 4);
    EXPECT_EQ(t.key.src[0], c.ipv6 ? 0x20 : 192);
    EXPECT_EQ(t.key.dst[c.ipv6 ? 15 : 3], 2);
    EXPECT_EQ(t.key.sport, kSport);
    EXPECT_EQ(t.key.dport, kDport);
    EXPECT_EQ(t.vlan, c.tcpflow_vlan);
    EXPECT_EQ(reinterpret_cast<const std::byte*>(t.segment.data()) - base,
              static_cast<std::ptrdiff_t>(c.tcp_at));
    EXPECT_EQ(t.segment_length, 20 + kData);
  }
}

// Tunnels are the probe's: it meters the inner flow of GRE (here carrying Ethernet with a tag
// that is not the flow's VLAN); a summary describes the sampled outer packet, and tcpflow, which
// follows TCP only, leaves the GRE packet unprocessed.
TEST(PacketDecoders, GreIsOpenedByTheProbeOnly) {
  PacketBuilder inner;
  inner.raw({2, 0, 0, 0, 0, 5, 2, 0, 0, 0, 0, 6}).u16(0x8100).u16(9).u16(kEtherTypeIpv4);
  ipv4_tcp(inner);
  PacketBuilder b;
  b.raw({2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).u16(kEtherTypeIpv4);
  const std::size_t gre_length = 4 + inner.bytes().size();
  b.u8(0x45).u8(0).u16(static_cast<std::uint32_t>(20 + gre_length)).u16(1).u16(0).u8(64).u8(47);
  b.u16(0).ip4(10, 0, 0, 1).ip4(10, 0, 0, 2);
  b.u16(0).u16(kEtherTypeTeb);
  for (std::byte x : inner.bytes()) b.u8(static_cast<std::uint8_t>(x));

  FlowPacket p;
  ASSERT_EQ(decode_flow_packet(LinkType::Ethernet, b.bytes(), p), PacketIssue::None);
  EXPECT_EQ(p.tunnels, 1);
  EXPECT_EQ(p.src.to_string(), "192.0.2.1");
  EXPECT_EQ(p.dst_port, kDport);
  EXPECT_EQ(p.vlan, 0);
  EXPECT_EQ(p.payload.data() - b.bytes().data(),
            static_cast<std::ptrdiff_t>(14 + 20 + 4 + 18 + 40));

  auto s = summarize_packet(LinkType::Ethernet, b.bytes());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->src.to_string(), "10.0.0.1");
  EXPECT_EQ(s->protocol, 47);

  capture::TcpPacket t;
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(b.bytes().data()),
                                            b.bytes().size());
  EXPECT_EQ(capture::tcpflow::decode_frame(1, bytes, static_cast<std::uint32_t>(bytes.size()),
                                           capture::PcapTime{1, 0}, t),
            capture::tcpflow::FrameKind::Unprocessed);
}

// What each decoder still does its own way, on purpose: tcpflow 1.6.1 reads a BSD null
// family from its first byte only (2 or 10), and the corpus tests hold tcpflow to its output on
// macOS captures (AF_INET6 30: no IPv6 flows); the probe and sFlow read the whole word.
TEST(PacketDecoders, TcpflowKeepsItsNullFamilyRule) {
  PacketBuilder b;
  b.raw({30, 0, 0, 0});
  ipv6_tcp(b, 255);
  FlowPacket p;
  EXPECT_EQ(decode_flow_packet(LinkType::Null, b.bytes(), p), PacketIssue::None);
  EXPECT_TRUE(summarize_packet(LinkType::Null, b.bytes()).has_value());
  capture::TcpPacket t;
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(b.bytes().data()),
                                            b.bytes().size());
  EXPECT_EQ(capture::tcpflow::decode_frame(0, bytes, static_cast<std::uint32_t>(bytes.size()),
                                           capture::PcapTime{1, 0}, t),
            capture::tcpflow::FrameKind::Ignored);
}

}  // namespace
}  // namespace flowscope
