#include "core/ip_address.h"

#include <unordered_set>

#include <gtest/gtest.h>

namespace flowscope {
namespace {

IpAddress ip(std::string_view text) {
  auto r = IpAddress::parse(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message);
  return r.value_or(IpAddress());
}

std::string roundtrip(std::string_view text) { return ip(text).to_string(); }

TEST(IpAddress, ParsesAndFormatsIpv4) {
  EXPECT_EQ(roundtrip("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(roundtrip("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(roundtrip("255.255.255.255"), "255.255.255.255");
  EXPECT_TRUE(ip("10.1.2.3").is_v4());
  EXPECT_EQ(ip("10.1.2.3").v4_value(), 0x0A010203u);
  EXPECT_EQ(IpAddress::v4(0xC0000201), ip("192.0.2.1"));
}

TEST(IpAddress, Ipv4IsHeldV4Mapped) {
  // One 16-byte value for both families: IPv4 as ::ffff:a.b.c.d.
  EXPECT_EQ(ip("192.0.2.1"), ip("::ffff:192.0.2.1"));
  EXPECT_EQ(ip("::ffff:c000:201"), ip("192.0.2.1"));
  EXPECT_EQ(roundtrip("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_FALSE(ip("::").is_v4());
  EXPECT_FALSE(ip("::192.0.2.1").is_v4());  // IPv4-compatible (deprecated), not mapped
}

// RFC 5952 §4: the canonical text form.
TEST(IpAddress, FormatsIpv6Canonically) {
  EXPECT_EQ(roundtrip("2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");  // §4.1, §4.3
  EXPECT_EQ(roundtrip("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");  // §4.2.3 first of equal runs
  EXPECT_EQ(roundtrip("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");        // §4.2.3 longest run wins
  EXPECT_EQ(roundtrip("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");  // §4.2.2 single 0 kept
  EXPECT_EQ(roundtrip("::"), "::");
  EXPECT_EQ(roundtrip("::1"), "::1");
  EXPECT_EQ(roundtrip("1::"), "1::");
  EXPECT_EQ(roundtrip("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(roundtrip("1:0:0:0:0:0:0:0"), "1::");
  EXPECT_EQ(roundtrip("fe80:0:0:0:0:0:0:1"), "fe80::1");
  EXPECT_EQ(roundtrip("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
  EXPECT_EQ(roundtrip("0:1:0:1:0:1:0:1"), "0:1:0:1:0:1:0:1");  // no run of two zero groups
  EXPECT_EQ(roundtrip("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
  EXPECT_EQ(roundtrip("::ffff:0:0"), "0.0.0.0");  // the v4-mapped range start is 0.0.0.0
  // Embedded IPv4 outside the mapped range is shown in hex (RFC 5952 §5 leaves it to context).
  EXPECT_EQ(roundtrip("::192.0.2.1"), "::c000:201");
  EXPECT_EQ(roundtrip("64:ff9b::192.0.2.1"), "64:ff9b::c000:201");
  EXPECT_EQ(roundtrip("FFFF:ffff:FFFF:ffff:ffff:ffff:ffff:ffff"),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(IpAddress, RejectsBadTextWithPosition) {
  struct Case {
    std::string_view text;
    std::size_t offset;
  };
  for (Case c :
       {Case{"", 0}, Case{"1.2.3", 5}, Case{"1.2.3.4.5", 7}, Case{"256.1.1.1", 0},
        Case{"1.2.3.04", 6}, Case{"1..2.3", 2}, Case{"1.2.3.4x", 7}, Case{"1:2:3:4:5:6:7:8:9", 16},
        Case{"1::2::3", 4}, Case{":1::", 0}, Case{"1:", 1}, Case{"12345::", 0}, Case{"g::1", 0},
        Case{"1:2:3:4:5:6:7", 13}, Case{"::1.2.3", 7}, Case{"1:2:3:4:5:6:7:1.2.3.4", 14},
        Case{"fe80::1%eth0", 7}, Case{"1:2:3:4:5:6:7:8::", 15}}) {
    auto r = IpAddress::parse(c.text);
    ASSERT_FALSE(r.has_value()) << c.text;
    ASSERT_TRUE(r.error().where.has_value()) << c.text;
    EXPECT_EQ(r.error().where->offset, c.offset) << c.text << ": " << r.error().message;
  }
}

TEST(IpAddress, ZonesBelongToScopedAddresses) {
  auto bad = IpAddress::parse("fe80::1%eth0");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("zone"), std::string::npos);

  auto s = ScopedAddress::parse("fe80::1%eth0");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->address, ip("fe80::1"));
  EXPECT_EQ(s->zone, "eth0");
  EXPECT_EQ(s->to_string(), "fe80::1%eth0");
  EXPECT_EQ(ScopedAddress::parse("FE80:0::1%2")->to_string(), "fe80::1%2");
  EXPECT_EQ(ScopedAddress::parse("2001:db8::1")->to_string(), "2001:db8::1");
  EXPECT_FALSE(ScopedAddress::parse("fe80::1%"));
  EXPECT_FALSE(ScopedAddress::parse("10.0.0.1%eth0"));  // zones are for IPv6
}

TEST(IpAddress, OrdersByNetworkBytes) {
  EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
  EXPECT_LT(ip("9.255.255.255"), ip("10.0.0.0"));
  EXPECT_LT(ip("::1"), ip("0.0.0.0"));  // below ::ffff:0:0
  EXPECT_LT(ip("255.255.255.255"), ip("2001:db8::"));
  EXPECT_EQ(ip("2001:db8::1") <=> ip("2001:db8::1"), std::strong_ordering::equal);
}

TEST(IpAddress, HashesSpreadAndAgreeWithEquality) {
  std::unordered_set<IpAddress> set;
  for (std::uint32_t i = 0; i < 1000; ++i) set.insert(IpAddress::v4(0x0A000000 + i));
  set.insert(ip("10.0.0.5"));
  EXPECT_EQ(set.size(), 1000u);
  EXPECT_EQ(std::hash<IpAddress>()(ip("::ffff:10.0.0.5")), std::hash<IpAddress>()(ip("10.0.0.5")));
  // Buckets are used: no more than a few collisions among 1000 sequential addresses.
  std::unordered_set<std::size_t> hashes;
  for (const auto& a : set) hashes.insert(std::hash<IpAddress>()(a));
  EXPECT_GE(hashes.size(), 995u);
}

TEST(IpAddress, WireBytesAndHalves) {
  const std::byte v4[4] = {std::byte{192}, std::byte{0}, std::byte{2}, std::byte{1}};
  EXPECT_EQ(IpAddress::v4_bytes(std::span<const std::byte, 4>(v4)), ip("192.0.2.1"));
  std::byte v6[16] = {};
  v6[0] = std::byte{0x20};
  v6[1] = std::byte{0x01};
  v6[15] = std::byte{0x01};
  IpAddress a = IpAddress::v6_bytes(std::span<const std::byte, 16>(v6));
  EXPECT_EQ(a, ip("2001::1"));
  EXPECT_EQ(a.high64(), 0x2001000000000000ULL);
  EXPECT_EQ(a.low64(), 1u);
  EXPECT_EQ(IpAddress::from_u64(a.high64(), a.low64()), a);
  EXPECT_EQ(fmt::format("{}", a), "2001::1");
  EXPECT_EQ(fmt::format("{:>10}", ip("1.2.3.4")), "   1.2.3.4");
}

}  // namespace
}  // namespace flowscope
