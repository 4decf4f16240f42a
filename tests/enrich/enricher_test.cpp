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
  auto groups = IpGroups::from_ini(
      "[Lab]\nnet = 81.2.69.0/24\nlocation = London office\nactivity = Research\n", "groups.ini");
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
  // The group's name, location and activity beside its id (stat -grp group|location|activity).
  EXPECT_EQ(sessions.get<FieldId::ClnGroupName>(0), "Lab");
  EXPECT_EQ(sessions.get<FieldId::ClnLocation>(0), "London office");
  EXPECT_EQ(sessions.get<FieldId::ClnActivity>(0), "Research");
  EXPECT_FALSE(sessions.is_set(FieldId::SrvGroupName, 0));
  EXPECT_FALSE(sessions.is_set(FieldId::SrvLocation, 0));
  EXPECT_EQ(sessions.get<FieldId::Service>(0), "https");
  EXPECT_EQ(enricher.stats().service_hits, 1u);
}

}  // namespace
}  // namespace flowscope::enrich

namespace flowscope::enrich {
namespace {

TEST(InterfaceTable, OptionsDataNamesSessionsAndSnmpWins) {
  const IpAddress router = *IpAddress::parse("192.0.2.7");
  InterfaceTable table;
  InterfaceUpdate gi{router, 5, {"Gi0/1", "to core", 0, InterfaceSource::OptionsData, {}}};
  InterfaceUpdate none{router, 0, {"Null0", "", 0, InterfaceSource::OptionsData, {}}};
  InterfaceUpdate te{router, 6, {"", "TenGigE0_0_1_0", 0, InterfaceSource::OptionsData, {}}};
  std::vector<InterfaceUpdate> first{gi, none, te};
  EXPECT_EQ(table.update(first), 2u);  // ifIndex 0 is never an interface
  auto before = table.snapshot();
  EXPECT_EQ(table.update(first), 0u);  // re-announced unchanged: no new snapshot
  EXPECT_EQ(table.snapshot(), before);

  // SNMP renames 5 and gives a speed; options data cannot overwrite that name afterwards.
  std::vector<InterfaceUpdate> snmp{
      {router, 5, {"GigabitEthernet0/1", "core", 1'000'000'000, InterfaceSource::Snmp, {}}}};
  EXPECT_EQ(table.update(snmp), 1u);
  EXPECT_EQ(table.update(std::vector<InterfaceUpdate>{gi}), 0u);
  ASSERT_NE(table.snapshot()->find(router, 5), nullptr);
  EXPECT_EQ(table.snapshot()->find(router, 5)->name, "GigabitEthernet0/1");
  EXPECT_EQ(table.snapshot()->find(router, 5)->speed_bps, 1'000'000'000u);
  EXPECT_EQ(before->find(router, 5)->name, "Gi0/1");  // old readers keep their snapshot

  EnrichSources sources;
  sources.interfaces = &table;
  Enricher enricher(sources);
  SessionBatch batch(4);
  for (int i = 0; i < 3; ++i) {
    const std::size_t row = batch.add_row();
    batch.set<FieldId::ClnAddr>(row, *IpAddress::parse("10.0.0.1"));
    batch.set<FieldId::SrvAddr>(row, *IpAddress::parse("10.0.0.2"));
    batch.set<FieldId::Exporter>(row, i == 2 ? *IpAddress::parse("192.0.2.8") : router);
    batch.set<FieldId::InIf>(row, 5);
    batch.set<FieldId::OutIf>(row, i == 0 ? 6u : 0u);
  }
  enricher.enrich(batch);
  EXPECT_EQ(batch.get<FieldId::InIfName>(0), "GigabitEthernet0/1");
  EXPECT_EQ(batch.get<FieldId::OutIfName>(0), "TenGigE0_0_1_0");  // the description, no name
  EXPECT_FALSE(batch.is_set(FieldId::OutIfName, 1));              // ifIndex 0
  EXPECT_FALSE(batch.is_set(FieldId::InIfName, 2));               // another exporter's ifIndex 5
  EXPECT_EQ(enricher.stats().interface_hits, 3u);
}

TEST(InterfaceTable, BoundedAndCounted) {
  InterfaceTable table(1);
  const IpAddress r = *IpAddress::parse("192.0.2.7");
  std::vector<InterfaceUpdate> u{{r, 1, {"a", "", 0, InterfaceSource::OptionsData, {}}},
                                 {r, 2, {"b", "", 0, InterfaceSource::OptionsData, {}}}};
  EXPECT_EQ(table.update(u), 1u);
  EXPECT_EQ(table.refused(), 1u);
}

}  // namespace
}  // namespace flowscope::enrich
