#include "core/prefix_table.h"

#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace flowscope {
namespace {

IpAddress ip(std::string_view text) { return IpAddress::parse(text).value_or(IpAddress()); }
Cidr cidr(std::string_view text) { return Cidr::parse(text).value_or(Cidr::host(IpAddress())); }

TEST(PrefixTable, EmptyTableFindsNothing) {
  PrefixTable table;
  EXPECT_EQ(table.lookup(ip("10.0.0.1")), PrefixTable::kNoValue);
  EXPECT_EQ(table.lookup(ip("2001:db8::1")), PrefixTable::kNoValue);
  EXPECT_FALSE(table.find(ip("1.2.3.4")));
  EXPECT_EQ(PrefixTableBuilder().build().lookup(ip("1.2.3.4")), PrefixTable::kNoValue);
}

TEST(PrefixTable, LongestPrefixWins) {
  PrefixTableBuilder b;
  b.add(cidr("10.0.0.0/8"), 1);
  b.add(cidr("10.1.0.0/16"), 2);
  b.add(cidr("10.1.2.0/24"), 3);
  b.add(cidr("10.1.2.128/25"), 4);
  b.add(cidr("2001:db8::/32"), 5);
  b.add(cidr("2001:db8:1::/48"), 6);
  PrefixTable t = b.build();
  EXPECT_EQ(t.prefix_count(), 6u);
  EXPECT_EQ(t.lookup(ip("10.200.0.1")), 1u);
  EXPECT_EQ(t.lookup(ip("10.1.200.1")), 2u);
  EXPECT_EQ(t.lookup(ip("10.1.2.1")), 3u);
  EXPECT_EQ(t.lookup(ip("10.1.2.200")), 4u);
  EXPECT_EQ(t.lookup(ip("10.1.3.0")), 2u);  // back out of the /24
  EXPECT_EQ(t.lookup(ip("10.2.0.0")), 1u);  // back out of the /16
  EXPECT_EQ(t.lookup(ip("11.0.0.0")), PrefixTable::kNoValue);
  EXPECT_EQ(t.lookup(ip("9.255.255.255")), PrefixTable::kNoValue);
  EXPECT_EQ(t.lookup(ip("2001:db8:1::5")), 6u);
  EXPECT_EQ(t.lookup(ip("2001:db8:2::5")), 5u);
  EXPECT_EQ(t.lookup(ip("2001:db9::")), PrefixTable::kNoValue);
}

TEST(PrefixTable, DefaultRoutesAndFamilies) {
  PrefixTableBuilder b;
  b.add(cidr("::/0"), 1);       // every address, IPv4 too
  b.add(cidr("0.0.0.0/0"), 2);  // every IPv4 address
  b.add(cidr("192.0.2.0/24"), 3);
  PrefixTable t = b.build();
  EXPECT_EQ(t.lookup(ip("2001:db8::1")), 1u);
  EXPECT_EQ(t.lookup(ip("8.8.8.8")), 2u);
  EXPECT_EQ(t.lookup(ip("192.0.2.9")), 3u);

  PrefixTableBuilder only6;
  only6.add(cidr("::/0"), 7);
  PrefixTable t6 = only6.build();
  EXPECT_EQ(t6.lookup(ip("8.8.8.8")), 7u);
  EXPECT_EQ(t6.lookup(ip("::1")), 7u);
}

TEST(PrefixTable, EdgesOfTheAddressSpace) {
  PrefixTableBuilder b;
  b.add(cidr("0.0.0.0/32"), 1);
  b.add(cidr("255.255.255.255/32"), 2);
  b.add(cidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), 3);
  b.add(cidr("::/128"), 4);
  b.add(cidr("128.0.0.0/1"), 5);
  PrefixTable t = b.build();
  EXPECT_EQ(t.lookup(ip("0.0.0.0")), 1u);
  EXPECT_EQ(t.lookup(ip("0.0.0.1")), PrefixTable::kNoValue);
  EXPECT_EQ(t.lookup(ip("255.255.255.255")), 2u);
  EXPECT_EQ(t.lookup(ip("255.255.255.254")), 5u);
  EXPECT_EQ(t.lookup(ip("128.0.0.0")), 5u);
  EXPECT_EQ(t.lookup(ip("127.255.255.255")), PrefixTable::kNoValue);
  EXPECT_EQ(t.lookup(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), 3u);
  EXPECT_EQ(t.lookup(ip("::")), 4u);
  EXPECT_EQ(t.lookup(ip("::1")), PrefixTable::kNoValue);
}

TEST(PrefixTable, DuplicatePrefixKeepsTheLastValue) {
  PrefixTableBuilder b;
  b.add(cidr("10.0.0.0/8"), 1);
  b.add(cidr("10.0.0.0/8"), 2);
  PrefixTable t = b.build();
  EXPECT_EQ(t.lookup(ip("10.9.9.9")), 2u);
  EXPECT_EQ(t.prefix_count(), 1u);
}

// Against a brute-force oracle on random nested prefixes of both families.
TEST(PrefixTable, AgreesWithBruteForce) {
  std::mt19937_64 rng(42);
  std::vector<std::pair<Cidr, std::uint32_t>> prefixes;
  PrefixTableBuilder b;
  auto random_v4 = [&] {
    // Cluster in 10.0.0.0/12 so that prefixes nest often.
    return IpAddress::v4(0x0A000000u | static_cast<std::uint32_t>(rng() & 0x000FFFFF));
  };
  auto random_v6 = [&] {
    return IpAddress::from_u64(0x20010db800000000ULL | (rng() & 0xFFFF), rng());
  };
  for (std::uint32_t i = 0; i < 3000; ++i) {
    bool v4 = i % 3 != 0;
    Cidr c =
        v4 ? Cidr::make(random_v4(), 8 + rng() % 25) : Cidr::make(random_v6(), 16 + rng() % 113);
    prefixes.emplace_back(c, i);
    b.add(c, i);
  }
  PrefixTable t = b.build();
  auto oracle = [&](const IpAddress& a) {
    std::uint32_t best = PrefixTable::kNoValue;
    unsigned best_bits = 0;
    bool found = false;
    for (const auto& [c, v] : prefixes) {
      if (c.contains(a) && (!found || c.bits128() >= best_bits)) {
        best = v;  // >=: a later duplicate wins
        best_bits = c.bits128();
        found = true;
      }
    }
    return best;
  };
  for (int i = 0; i < 20000; ++i) {
    IpAddress a = i % 3 != 0 ? random_v4() : random_v6();
    if (i % 7 == 0) a = prefixes[rng() % prefixes.size()].first.last();  // range ends
    ASSERT_EQ(t.lookup(a), oracle(a)) << a.to_string();
  }
}

}  // namespace
}  // namespace flowscope
