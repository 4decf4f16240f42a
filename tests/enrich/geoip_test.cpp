#include "enrich/geoip.h"

#include <gtest/gtest.h>

#include "enrich/enrich_test_support.h"
#include "enrich/reloadable.h"

namespace flowscope::enrich {
namespace {

using testing::geoip_dir;

IpAddress ip(std::string_view s) { return *IpAddress::parse(s); }

class GeoIpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(geoip_dir() / "GeoLite2-City-Test.mmdb")) {
      GTEST_SKIP() << "MaxMind test databases not found at " << geoip_dir();
    }
  }
  GeoPaths paths() const {
    return {geoip_dir() / "GeoLite2-City-Test.mmdb", geoip_dir() / "GeoLite2-ASN-Test.mmdb"};
  }
};

// Addresses and answers are those the databases' .json sources document.
TEST_F(GeoIpTest, CityDatabaseIPv4AndIPv6) {
  auto db = GeoDb::load(paths());
  ASSERT_TRUE(db) << db.error().message;
  const GeoLocation* london = (*db)->location(ip("81.2.69.142"));
  ASSERT_NE(london, nullptr);
  EXPECT_EQ(london->country.view(), "GB");
  EXPECT_EQ((*db)->text(london->city), "London");
  const GeoLocation* boxford = (*db)->location(ip("2.125.160.218"));  // in 2.125.160.216/29
  ASSERT_NE(boxford, nullptr);
  EXPECT_EQ((*db)->text(boxford->city), "Boxford");
  const GeoLocation* jp = (*db)->location(ip("2001:218::1"));  // 2001:218::/32
  ASSERT_NE(jp, nullptr);
  EXPECT_EQ(jp->country.view(), "JP");
  EXPECT_EQ(jp->city, 0u) << "no city in the documented record";
  EXPECT_EQ((*db)->location(ip("10.1.2.3")), nullptr);
  EXPECT_EQ((*db)->location(ip("81.2.69.141")), nullptr) << "just below 81.2.69.142/31";
}

TEST_F(GeoIpTest, AsnDatabaseIPv4AndIPv6) {
  auto db = GeoDb::load(paths());
  ASSERT_TRUE(db) << db.error().message;
  const AsInfo* google = (*db)->as_info(ip("1.0.0.1"));  // 1.0.0.0/24
  ASSERT_NE(google, nullptr);
  EXPECT_EQ(google->asn, 15169u);
  EXPECT_EQ((*db)->text(google->org), "Google Inc.");
  const AsInfo* att = (*db)->as_info(ip("12.81.96.5"));  // 12.81.96.0/19, no organisation
  ASSERT_NE(att, nullptr);
  EXPECT_EQ(att->asn, 7018u);
  EXPECT_EQ(att->org, 0u);
  const AsInfo* sunrise = (*db)->as_info(ip("2001:1700::1"));  // 2001:1700::/27
  ASSERT_NE(sunrise, nullptr);
  EXPECT_EQ(sunrise->asn, 6730u);
  EXPECT_EQ((*db)->text(sunrise->org), "Sunrise Communications AG");
  EXPECT_EQ((*db)->as_info(ip("192.168.1.1")), nullptr);
}

TEST_F(GeoIpTest, CountryDatabaseServesLocations) {
  auto db = GeoDb::load({geoip_dir() / "GeoLite2-Country-Test.mmdb", {}});
  ASSERT_TRUE(db) << db.error().message;
  const GeoLocation* us = (*db)->location(ip("50.114.0.1"));  // 50.114.0.0/22
  ASSERT_NE(us, nullptr);
  EXPECT_EQ(us->country.view(), "US");
  EXPECT_EQ((*db)->as_info(ip("1.0.0.1")), nullptr) << "no ASN database given";
}

TEST_F(GeoIpTest, ReloadSwapsWithoutDisturbingReaders) {
  auto first = GeoDb::load({geoip_dir() / "GeoLite2-Country-Test.mmdb", {}});
  ASSERT_TRUE(first);
  Reloadable<GeoDb> geo(*first);
  const std::shared_ptr<const GeoDb> reader = geo.snapshot();  // a batch in progress
  auto second = GeoDb::load(paths());
  ASSERT_TRUE(second);
  geo.store(*second);
  EXPECT_EQ(reader->as_info(ip("1.0.0.1")), nullptr) << "the old snapshot is unchanged";
  ASSERT_NE(geo.snapshot()->as_info(ip("1.0.0.1")), nullptr);
  EXPECT_EQ(geo.snapshot()->as_info(ip("1.0.0.1"))->asn, 15169u);
}

TEST_F(GeoIpTest, MissingAndBrokenFilesAreErrors) {
  auto missing = GeoDb::load({"/nonexistent/GeoLite2-City.mmdb", {}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/GeoLite2-City.mmdb"), std::string::npos);
  auto broken = GeoDb::load({geoip_dir() / "MaxMind-DB-test-broken-search-tree-24.mmdb", {}});
  EXPECT_FALSE(broken) << "a search tree pointing outside the file";
}

}  // namespace
}  // namespace flowscope::enrich
