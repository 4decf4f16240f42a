#include "enrich/ip_groups.h"

#include <gtest/gtest.h>

#include "enrich/enrich_test_support.h"
#include "enrich/ip_range.h"

namespace flowscope::enrich {
namespace {

IpAddress ip(std::string_view s) { return *IpAddress::parse(s); }

TEST(IpGroups, TrafMonStyleFileNestsByLongestPrefix) {
  auto groups = IpGroups::load(testing::source_dir() / "tests" / "data" / "ipInfo.ini");
  ASSERT_TRUE(groups) << groups.error().message;
  const IpGroup* campus = groups->find("Campus");
  const IpGroup* physics = groups->find("Physics");
  const IpGroup* instruments = groups->find("Physics instruments");
  const IpGroup* guests = groups->find("Guest Wi-Fi");
  ASSERT_TRUE(campus && physics && instruments && guests);
  EXPECT_EQ(campus->id, 10u) << "explicit id kept";
  EXPECT_GT(physics->id, 10u) << "others numbered after the largest explicit id";
  EXPECT_EQ(campus->location, "Main site, Brussels");
  EXPECT_EQ(physics->activity, "Research");
  EXPECT_EQ(physics->parent, campus->id);
  EXPECT_EQ(instruments->parent, physics->id);

  EXPECT_EQ(groups->lookup(ip("10.9.9.9")), campus->id);
  EXPECT_EQ(groups->lookup(ip("10.1.2.3")), physics->id);
  EXPECT_EQ(groups->lookup(ip("10.1.5.10")), instruments->id);
  EXPECT_EQ(groups->lookup(ip("10.1.5.20")), instruments->id);
  EXPECT_EQ(groups->lookup(ip("10.1.5.21")), physics->id) << "just past the range";
  EXPECT_EQ(groups->lookup(ip("10.1.7.7")), instruments->id);
  EXPECT_EQ(groups->lookup(ip("10.200.3.4")), guests->id) << "longer than Campus's /8";
  EXPECT_EQ(groups->lookup(ip("2001:db8:ffff::1")), guests->id);
  EXPECT_EQ(groups->lookup(ip("2001:db8:1::1")), campus->id);
  EXPECT_EQ(groups->lookup(ip("192.0.2.1")), 0u);

  EXPECT_TRUE(groups->is_within(instruments->id, campus->id));
  EXPECT_FALSE(groups->is_within(guests->id, campus->id));
  EXPECT_EQ(groups->group(physics->id), physics);
}

TEST(IpGroups, TomlFormMatchesTheIniForm) {
  constexpr std::string_view kToml = R"(
[[group]]
name = "Campus"
location = "Main site"
addresses = ["10.0.0.0/8"]

[[group]]
name = "Physics"
parent = "Campus"
id = 42
addresses = ["10.1.0.0/16", "10.1.5.10-10.1.5.20"]
)";
  auto groups = IpGroups::from_toml(kToml, "groups.toml");
  ASSERT_TRUE(groups) << groups.error().message;
  EXPECT_EQ(groups->lookup(ip("10.1.5.15")), 42u);
  EXPECT_EQ(groups->lookup(ip("10.2.0.1")), groups->find("Campus")->id);
  EXPECT_EQ(groups->find("Physics")->parent, groups->find("Campus")->id);
}

TEST(IpGroups, ErrorsNameTheFileLineAndFix) {
  auto bad_net = IpGroups::from_ini("[A]\nnet = 10.1.2.3/8\n", "ipInfo.ini");
  ASSERT_FALSE(bad_net);
  EXPECT_NE(bad_net.error().message.find("ipInfo.ini:2:"), std::string::npos)
      << bad_net.error().message;
  auto orphan = IpGroups::from_ini("net = 10.0.0.0/8\n", "ipInfo.ini");
  ASSERT_FALSE(orphan);
  EXPECT_NE(orphan.error().message.find("before any [group]"), std::string::npos);
  auto parent = IpGroups::from_ini("[A]\nparent = Nope\n", "ipInfo.ini");
  ASSERT_FALSE(parent);
  EXPECT_NE(parent.error().message.find("\"Nope\""), std::string::npos);
  auto cycle = IpGroups::from_ini("[A]\nparent = B\n[B]\nparent = A\n", "ipInfo.ini");
  ASSERT_FALSE(cycle);
  EXPECT_NE(cycle.error().message.find("cycle"), std::string::npos);
  auto dup_id = IpGroups::from_ini("[A]\nid = 3\n[B]\nid = 3\n", "ipInfo.ini");
  EXPECT_FALSE(dup_id);
  auto toml = IpGroups::from_toml("[[group]]\nname = \n", "g.toml");
  ASSERT_FALSE(toml);
  EXPECT_NE(toml.error().message.find("g.toml:"), std::string::npos);
}

TEST(IpRange, RangesSplitIntoExactCidrs) {
  auto cidrs = range_to_cidrs(ip("10.1.5.10"), ip("10.1.5.20"));
  std::vector<std::string> text;
  for (const Cidr& c : cidrs) text.push_back(c.to_string());
  EXPECT_EQ(text, (std::vector<std::string>{"10.1.5.10/31", "10.1.5.12/30", "10.1.5.16/30",
                                            "10.1.5.20/32"}));
  auto all = range_to_cidrs(ip("0.0.0.0"), ip("255.255.255.255"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].to_string(), "0.0.0.0/0");
  auto v6 = range_to_cidrs(ip("2001:db8::"), ip("2001:db8::ff"));
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].to_string(), "2001:db8::/120");
  std::vector<Cidr> out;
  EXPECT_FALSE(parse_address_item("10.0.0.9 - 10.0.0.1", out));
  EXPECT_FALSE(parse_address_item("10.0.0.1 - 2001:db8::1", out));
  EXPECT_TRUE(parse_address_item("192.0.2.7", out));
  EXPECT_EQ(out.back().to_string(), "192.0.2.7/32");
}

}  // namespace
}  // namespace flowscope::enrich
