#include "core/packet_layers.h"

#include <gtest/gtest.h>

#include "decode/packet_builder.h"

namespace flowscope {
namespace {

using testing::PacketBuilder;

std::ptrdiff_t at(const LinkLayers& l, const PacketBuilder& b) {
  return l.payload.data() - b.bytes().data();
}

TEST(PacketLayers, TagsKeepTheOutermostTagAndTheFirstNonZeroId) {
  PacketBuilder b;
  b.zeros(12).u16(kEtherTypeQinQ).u16(0x6000).u16(kEtherTypeVlan).u16(0x2064);
  b.u16(kEtherTypeQinQOld).u16(5).u16(kEtherTypeIpv6).zeros(4);
  LinkLayers l;
  ASSERT_EQ(walk_link(LinkType::Ethernet, b.bytes(), l), LinkIssue::None);
  EXPECT_EQ(l.first_tag_type, kEtherTypeQinQ);
  EXPECT_EQ(l.first_tci, 0x6000);  // a priority tag: id 0 ...
  EXPECT_EQ(l.vlan, 100);          // ... so the next tag's id is the VLAN
  EXPECT_EQ(l.ether_type, kEtherTypeIpv6);
  EXPECT_EQ(at(l, b), 26);
  PacketBuilder cut;
  cut.zeros(12).u16(kEtherTypeVlan).u16(1);  // the tag's ether type is missing
  LinkLayers c;
  EXPECT_EQ(walk_link(LinkType::Ethernet, cut.bytes(), c), LinkIssue::Truncated);
}

TEST(PacketLayers, MplsStacksAndPseudowires) {
  PacketBuilder b;
  b.zeros(12).u16(kEtherTypeMpls).u32(1 << 12).u32(2 << 12).u32(3 << 12 | 0x100).u8(0x45);
  LinkLayers l;
  ASSERT_EQ(walk_link(LinkType::Ethernet, b.bytes(), l), LinkIssue::None);
  EXPECT_EQ(l.mpls_labels, 3);
  EXPECT_EQ(l.ether_type, kEtherTypeIpv4);
  EXPECT_EQ(at(l, b), 26);

  PacketBuilder other;  // neither IP nor a control word: returned with no type
  other.zeros(12).u16(kEtherTypeMplsMulticast).u32(0x100).u8(0x90);
  LinkLayers o;
  ASSERT_EQ(walk_link(LinkType::Ethernet, other.bytes(), o), LinkIssue::None);
  EXPECT_EQ(o.ether_type, 0);

  PacketBuilder empty;
  empty.zeros(12).u16(kEtherTypeMpls).u32(0x100);
  LinkLayers e;
  EXPECT_EQ(walk_link(LinkType::Ethernet, empty.bytes(), e), LinkIssue::MplsTruncated);

  // A pseudowire is opened once; a second one inside it is returned unopened.
  PacketBuilder pw;
  pw.zeros(12).u16(kEtherTypeMpls).u32(0x100).u32(0);
  pw.zeros(12).u16(kEtherTypeVlan).u16(9).u16(kEtherTypeMpls).u32(0x100).u32(0).zeros(14);
  LinkLayers p;
  ASSERT_EQ(walk_link(LinkType::Ethernet, pw.bytes(), p), LinkIssue::None);
  EXPECT_TRUE(p.pseudowire);
  EXPECT_EQ(p.vlan, 0);  // the inner frame's tag is not the packet's VLAN
  EXPECT_EQ(p.ether_type, kEtherTypeTeb);
  EXPECT_EQ(at(p, pw), 14 + 8 + 18 + 8);
}

TEST(PacketLayers, PppoePppSllLoopbackAndRaw) {
  PacketBuilder pppoe;
  pppoe.zeros(12).u16(kEtherTypePppoeSession).u8(0x11).u8(0).u16(1).u16(2).u16(0xC021);
  LinkLayers l;
  ASSERT_EQ(walk_link(LinkType::Ethernet, pppoe.bytes(), l), LinkIssue::None);
  EXPECT_TRUE(l.pppoe);
  EXPECT_EQ(l.ether_type, 0);  // LCP, not IP
  pppoe.bytes().resize(20);
  LinkLayers cut;
  EXPECT_EQ(walk_link(LinkType::Ethernet, pppoe.bytes(), cut), LinkIssue::Truncated);

  PacketBuilder ppp;
  ppp.u8(0xFF).u8(0x03).u16(0x0057).u8(0x60);
  LinkLayers p;
  ASSERT_EQ(walk_link(LinkType::Ppp, ppp.bytes(), p), LinkIssue::None);
  EXPECT_EQ(p.ether_type, kEtherTypeIpv6);
  EXPECT_EQ(at(p, ppp), 4);

  PacketBuilder sll2;
  sll2.u16(kEtherTypeMpls).zeros(18).u32(0x100).u8(0x45);
  LinkLayers s;
  ASSERT_EQ(walk_link(LinkType::LinuxSll2, sll2.bytes(), s), LinkIssue::None);
  EXPECT_EQ(s.ether_type, kEtherTypeIpv4);
  EXPECT_EQ(at(s, sll2), 24);

  for (LinkType link : {LinkType::Null, LinkType::Loop}) {
    PacketBuilder little, big;
    little.raw({30, 0, 0, 0});
    big.u32(2);
    LinkLayers a, c;
    ASSERT_EQ(walk_link(link, little.bytes(), a), LinkIssue::None);
    EXPECT_EQ(a.family, 30u);
    EXPECT_EQ(a.ether_type, kEtherTypeIpv6);
    ASSERT_EQ(walk_link(link, big.bytes(), c), LinkIssue::None);
    EXPECT_EQ(c.ether_type, kEtherTypeIpv4);
  }

  PacketBuilder raw;
  raw.u8(0x55);
  LinkLayers r;
  EXPECT_EQ(walk_link(LinkType::Raw, raw.bytes(), r), LinkIssue::BadIpVersion);
  EXPECT_EQ(walk_link(static_cast<LinkType>(147), raw.bytes(), r), LinkIssue::UnsupportedLink);
}

TEST(PacketLayers, Ipv6ExtensionWalk) {
  PacketBuilder b;
  b.u8(51).u8(0).zeros(6);                // hop-by-hop, 8 bytes
  b.u8(44).u8(1).zeros(10);               // AH, (1 + 2) * 4 = 12 bytes
  b.u8(6).u8(0).u16(0x0008).u32(0xABCD);  // fragment, offset 1: a later fragment
  b.u8(60).u8(0).zeros(6);                // not walked: inside the fragment
  Ipv6Extensions e;
  walk_ipv6_extensions(0, b.bytes(), e);
  EXPECT_FALSE(e.cut);
  EXPECT_TRUE(e.fragment);
  EXPECT_TRUE(e.later_fragment);
  EXPECT_EQ(e.fragment_id, 0xABCDu);
  EXPECT_EQ(e.next, 6);
  EXPECT_EQ(e.offset, 28u);

  PacketBuilder cut;
  cut.u8(6).u8(0).zeros(3);
  walk_ipv6_extensions(60, cut.bytes(), e);
  EXPECT_TRUE(e.cut);
  EXPECT_EQ(e.next, 60);  // the header that did not fit
}

TEST(PacketLayers, GreHeaders) {
  PacketBuilder b;
  b.u16(0x3000).u16(kEtherTypeIpv6).u32(7).u32(8).u8(0x60);  // key and sequence number
  LinkLayers l;
  ASSERT_EQ(walk_gre(b.bytes(), l), GreIssue::None);
  EXPECT_EQ(l.ether_type, kEtherTypeIpv6);
  EXPECT_EQ(at(l, b), 12);

  PacketBuilder pptp;
  pptp.u16(0x3081).u16(0x880B).zeros(8);
  EXPECT_EQ(walk_gre(pptp.bytes(), l), GreIssue::NotOpened);
  PacketBuilder reserved;
  reserved.u16(0x0002).u16(kEtherTypeIpv4);
  EXPECT_EQ(walk_gre(reserved.bytes(), l), GreIssue::Bad);
  PacketBuilder mpls;
  mpls.u16(0).u16(kEtherTypeMpls).u32(0x100).u8(0x90);
  LinkLayers m;
  EXPECT_EQ(walk_gre(mpls.bytes(), m), GreIssue::NotOpened);  // MPLS payload that is not IP
  PacketBuilder mpls_cut;
  mpls_cut.u16(0).u16(kEtherTypeMpls).u16(0);
  LinkLayers mc;
  EXPECT_EQ(walk_gre(mpls_cut.bytes(), mc), GreIssue::MplsTruncated);
}

}  // namespace
}  // namespace flowscope
