#include "enrich/enricher.h"

#include <gtest/gtest.h>

#include "enrich/enrich_test_support.h"
#include "session/flow_builder.h"
#include "session/stitcher.h"

namespace flowscope::enrich {
namespace {

using testing::ip;

TEST(Enricher, StitchedSessionsGetGeoGroupsAndServices) {
  const auto geo_dir = testing::geoip_dir();
  if (!std::filesystem::exists(geo_dir / "GeoLite2-City-Test.mmdb")) {
    GTEST_SKIP() << "MaxMind test databases not found at " << geo_dir;
  }
  auto db = GeoDb::load({geo_dir / "GeoLite2-City-Test.mmdb", geo_dir / "GeoLite2-ASN-Test.mmdb"});
  ASSERT_TRUE(db) << db.error().message;
  Reloadable<GeoDb> geo(*db);
  auto groups = IpGroups::from_ini("[Lab]\nnet = 81.2.69.0/24\n", "groups.ini");
  ASSERT_TRUE(groups);
  Reloadable<IpGroups> group_source(std::make_shared<const IpGroups>(std::move(*groups)));
  auto services = std::make_shared<ServiceTable>();
  ASSERT_TRUE(services->add_file(testing::source_dir() / "data" / "services.tsv"));
  Reloadable<ServiceTable> service_source(services);

  FlowBatch flows;
  // London client to Google's 1.0.0.1 over HTTPS; the exporter gave a BGP AS for the server.
  testing::add_flow(flows, {"81.2.69.142", 50000, "1.0.0.1", 443, 6, 3, 300});
  testing::add_flow(flows, {"1.0.0.1", 443, "81.2.69.142", 50000, 6, 4, 4000});
  flows.set<FieldId::SrcAs>(0, 64500);  // exporter's view of the client: kept over GeoIP
  session::StitcherConfig config;
  config.services = services->service_ports();
  session::Stitcher stitcher(config);
  SessionBatch sessions;
  stitcher.add(flows, sessions);
  stitcher.flush(sessions);
  ASSERT_EQ(sessions.size(), 1u);

  Enricher enricher({&geo, &group_source, &service_source, nullptr});
  enricher.enrich(sessions);
  EXPECT_EQ(sessions.get<FieldId::ClnCountry>(0).view(), "GB");
  EXPECT_EQ(sessions.get<FieldId::ClnCity>(0), "London");
  EXPECT_EQ(sessions.get<FieldId::ClnAs>(0), 64500u) << "the exporter's AS wins";
  EXPECT_EQ(sessions.get<FieldId::SrvAs>(0), 15169u);
  EXPECT_EQ(sessions.get<FieldId::SrvAsOrg>(0), "Google Inc.");
  EXPECT_FALSE(sessions.is_set(FieldId::SrvCity, 0));
  EXPECT_EQ(sessions.get<FieldId::ClnGroup>(0), group_source.snapshot()->find("Lab")->id);
  EXPECT_FALSE(sessions.is_set(FieldId::SrvGroup, 0));
  EXPECT_EQ(sessions.get<FieldId::Service>(0), "https");
  EXPECT_EQ(enricher.stats().service_hits, 1u);
}

}  // namespace
}  // namespace flowscope::enrich
