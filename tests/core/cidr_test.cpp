#include "core/cidr.h"

#include <gtest/gtest.h>

namespace flowscope {
namespace {

IpAddress ip(std::string_view text) { return IpAddress::parse(text).value_or(IpAddress()); }

Cidr cidr(std::string_view text, Cidr::HostBits mode = Cidr::HostBits::Reject) {
  auto r = Cidr::parse(text, mode);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r.value_or(Cidr::host(IpAddress()));
}

TEST(Cidr, ParsesAndFormats) {
  EXPECT_EQ(cidr("10.0.0.0/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(cidr("2001:DB8::/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(cidr("192.0.2.7").to_string(), "192.0.2.7/32");  // a bare address is a host route
  EXPECT_EQ(cidr("2001:db8::7").to_string(), "2001:db8::7/128");
  EXPECT_EQ(cidr("10.0.0.0/8").prefix_len(), 8u);
  EXPECT_EQ(cidr("10.0.0.0/8").bits128(), 104u);
  EXPECT_TRUE(cidr("10.0.0.0/8").is_v4());
  EXPECT_FALSE(cidr("2001:db8::/32").is_v4());
}

TEST(Cidr, SlashZero) {
  Cidr all_v4 = cidr("0.0.0.0/0");
  EXPECT_TRUE(all_v4.contains(ip("0.0.0.0")));
  EXPECT_TRUE(all_v4.contains(ip("255.255.255.255")));
  EXPECT_FALSE(all_v4.contains(ip("2001:db8::1")));  // IPv4 /0 holds only IPv4
  EXPECT_FALSE(all_v4.contains(ip("::")));
  Cidr all = cidr("::/0");
  EXPECT_TRUE(all.contains(ip("2001:db8::1")));
  EXPECT_TRUE(all.contains(ip("10.1.2.3")));  // ::/0 holds every address
  EXPECT_EQ(all.to_string(), "::/0");
  EXPECT_EQ(all_v4.to_string(), "0.0.0.0/0");
  EXPECT_EQ(all_v4.last(), ip("255.255.255.255"));
}

TEST(Cidr, HostRoutes) {
  Cidr h4 = cidr("192.0.2.1/32");
  EXPECT_TRUE(h4.contains(ip("192.0.2.1")));
  EXPECT_FALSE(h4.contains(ip("192.0.2.0")));
  EXPECT_FALSE(h4.contains(ip("192.0.2.2")));
  EXPECT_EQ(h4.last(), ip("192.0.2.1"));
  Cidr h6 = cidr("2001:db8::1/128");
  EXPECT_TRUE(h6.contains(ip("2001:db8::1")));
  EXPECT_FALSE(h6.contains(ip("2001:db8::")));
  EXPECT_EQ(Cidr::host(ip("10.0.0.1")), cidr("10.0.0.1/32"));
}

TEST(Cidr, BoundariesOfAPrefix) {
  Cidr c = cidr("10.20.0.0/14");
  EXPECT_TRUE(c.contains(ip("10.20.0.0")));
  EXPECT_TRUE(c.contains(ip("10.23.255.255")));
  EXPECT_FALSE(c.contains(ip("10.24.0.0")));
  EXPECT_FALSE(c.contains(ip("10.19.255.255")));
  EXPECT_EQ(c.last(), ip("10.23.255.255"));
  Cidr v6 = cidr("2001:db8:8000::/33");
  EXPECT_TRUE(v6.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(v6.contains(ip("2001:db8:7fff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(cidr("10.20.0.0/14")));
  EXPECT_FALSE(cidr("10.20.0.0/14").contains(cidr("10.0.0.0/8")));
}

TEST(Cidr, HostBitsSet) {
  auto strict = Cidr::parse("10.1.2.3/8");
  ASSERT_FALSE(strict);
  EXPECT_NE(strict.error().message.find("did you mean 10.0.0.0/8"), std::string::npos)
      << strict.error().message;
  EXPECT_EQ(cidr("10.1.2.3/8", Cidr::HostBits::Clear).to_string(), "10.0.0.0/8");
  EXPECT_EQ(cidr("2001:db8::1/32", Cidr::HostBits::Clear).to_string(), "2001:db8::/32");
  EXPECT_FALSE(Cidr::parse("2001:db8::1/32"));
  EXPECT_EQ(cidr("255.255.255.255/1", Cidr::HostBits::Clear).to_string(), "128.0.0.0/1");
}

TEST(Cidr, FamilyComesFromTheText) {
  // "::ffff:0:0/96" is written as IPv6: 96 bits are allowed, and it covers exactly IPv4.
  Cidr mapped = cidr("::ffff:0:0/96");
  EXPECT_EQ(mapped, cidr("0.0.0.0/0"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
  EXPECT_TRUE(Cidr::parse("::ffff:10.0.0.0/104"));
}

TEST(Cidr, ErrorsNamePositions) {
  struct Case {
    std::string_view text;
    std::size_t offset;
  };
  for (Case c : {Case{"10.0.0.0/", 9}, Case{"10.0.0.0/x", 9}, Case{"10.0.0.0/33", 9},
                 Case{"2001:db8::/129", 11}, Case{"10.0.0.0/8x", 10}, Case{"10.0.0.0/08", 9},
                 Case{"10.0.0/8", 6}, Case{"/8", 0}}) {
    auto r = Cidr::parse(c.text);
    ASSERT_FALSE(r) << c.text;
    ASSERT_TRUE(r.error().where) << c.text;
    EXPECT_EQ(r.error().where->offset, c.offset) << c.text << ": " << r.error().message;
  }
}

TEST(Cidr, MakeClearsHostBits) {
  EXPECT_EQ(Cidr::make(ip("10.1.2.3"), 16).to_string(), "10.1.0.0/16");
  EXPECT_EQ(Cidr::make(ip("2001:db8:1:2::5"), 48).to_string(), "2001:db8:1::/48");
  EXPECT_EQ(Cidr::make(ip("10.1.2.3"), 0).to_string(), "0.0.0.0/0");
  EXPECT_EQ(mask_address(ip("10.255.255.255"), 96 + 12), ip("10.240.0.0"));
}

}  // namespace
}  // namespace flowscope
