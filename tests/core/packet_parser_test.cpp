#include "core/packet_parser.h"

#include <gtest/gtest.h>

#include "decode/packet_builder.h"

namespace flowscope {
namespace {

using testing::PacketBuilder;

void ipv4_udp(PacketBuilder& b, std::size_t payload, std::uint16_t fragment = 0) {
  b.u8(0x45).u8(0).u16(20 + 8 + payload).u16(1).u16(fragment).u8(64).u8(17).u16(0);
  b.ip4(192, 0, 2, 1).ip4(198, 51, 100, 2);
  b.u16(40000).u16(2055).u16(8 + payload).u16(0);
  for (std::size_t i = 0; i < payload; ++i) b.u8(static_cast<std::uint32_t>(i));
}

TEST(PacketParser, EthernetWithVlanTagsToUdp) {
  PacketBuilder b;
  b.zeros(12).u16(kEtherTypeVlan).u16(0x2064).u16(kEtherTypeVlan).u16(7).u16(kEtherTypeIpv4);
  ipv4_udp(b, 5);
  b.zeros(4);  // Ethernet trailer beyond the IP total length is ignored
  auto d = extract_udp(LinkType::Ethernet, b.bytes());
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->ip.src.to_string(), "192.0.2.1");
  EXPECT_EQ(d->ip.dst.to_string(), "198.51.100.2");
  EXPECT_EQ(d->udp.dst_port, 2055);
  EXPECT_EQ(d->udp.payload.size(), 5u);
  auto net = parse_link(LinkType::Ethernet, b.bytes());
  EXPECT_EQ(net->vlan, 100);
}

TEST(PacketParser, MplsLabelStackToUdp) {
  PacketBuilder b;
  b.zeros(12).u16(kEtherTypeMpls).u32(100 << 12 | 64).u32(200 << 12 | 0x100 | 64);
  ipv4_udp(b, 3);
  auto d = extract_udp(LinkType::Ethernet, b.bytes());
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->udp.dst_port, 2055);
  PacketBuilder cut;
  cut.zeros(12).u16(kEtherTypeMpls).u32(100 << 12 | 64);  // no bottom of stack
  EXPECT_FALSE(parse_link(LinkType::Ethernet, cut.bytes()).has_value());
}

TEST(PacketParser, Ipv6WithExtensionHeaderAndSll) {
  PacketBuilder b;
  b.u16(0).u16(1).u16(6).zeros(8).u16(kEtherTypeIpv6);  // Linux SLL
  b.u32(0x60000000).u16(8 + 8 + 3).u8(60).u8(64);       // destination options next
  b.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  b.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  b.u8(17).u8(0).zeros(6);  // 8-byte destination options
  b.u16(1).u16(4739).u16(11).u16(0).raw({1, 2, 3});
  auto d = extract_udp(LinkType::LinuxSll, b.bytes());
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->ip.src.to_string(), "2001:db8::1");
  EXPECT_EQ(d->udp.dst_port, 4739);
  EXPECT_EQ(d->udp.payload.size(), 3u);
}

TEST(PacketParser, RawIpAndLoopback) {
  PacketBuilder raw;
  ipv4_udp(raw, 2);
  EXPECT_TRUE(extract_udp(LinkType::Raw, raw.bytes()).has_value());
  PacketBuilder loop;
  loop.u8(2).u8(0).u8(0).u8(0);  // AF_INET, little-endian (DLT_NULL)
  ipv4_udp(loop, 2);
  EXPECT_TRUE(extract_udp(LinkType::Null, loop.bytes()).has_value());
}

TEST(PacketParser, BadLayersAreErrorsNotCrashes) {
  PacketBuilder frag;
  ipv4_udp(frag, 4, 0x2000);  // more fragments
  EXPECT_EQ(extract_udp(LinkType::Raw, frag.bytes()).error().code, ErrorCode::Unsupported);
  PacketBuilder cut;
  ipv4_udp(cut, 40);
  cut.bytes().resize(50);  // snaplen shorter than the packet
  EXPECT_EQ(extract_udp(LinkType::Raw, cut.bytes()).error().code, ErrorCode::Truncated);
  PacketBuilder b;
  ipv4_udp(b, 10);
  for (std::size_t n = 0; n < b.size(); ++n) {
    std::span<const std::byte> prefix(b.bytes().data(), n);
    EXPECT_FALSE(extract_udp(LinkType::Raw, prefix).has_value()) << n;
    EXPECT_FALSE(extract_udp(LinkType::Ethernet, prefix).has_value()) << n;
  }
  EXPECT_FALSE(parse_link(static_cast<LinkType>(9999), b.bytes()).has_value());
}

}  // namespace
}  // namespace flowscope
