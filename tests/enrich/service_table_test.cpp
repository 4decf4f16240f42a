#include "enrich/service_table.h"

#include <gtest/gtest.h>

#include "enrich/enrich_test_support.h"

namespace flowscope::enrich {
namespace {

TEST(ServiceTable, ShippedTableAndUserOverrides) {
  ServiceTable t;
  ASSERT_TRUE(t.add_file(testing::source_dir() / "data" / "services.tsv"));
  EXPECT_GT(t.size(), 250u);
  EXPECT_EQ(t.name(6, 443), "https");
  EXPECT_EQ(t.name(17, 53), "domain");
  EXPECT_EQ(t.name(6, 22), "ssh");
  EXPECT_EQ(t.name(17, 22), "") << "ssh is TCP only in the table";
  EXPECT_EQ(t.name(1, 8), "") << "ICMP has no ports";
  EXPECT_EQ(t.name(6, 50123), "");

  ASSERT_TRUE(t.add_text("# site services\ntcp 8443 intranet\ntcp 443 web\n", "site.tsv"));
  EXPECT_EQ(t.name(6, 8443), "intranet");
  EXPECT_EQ(t.name(6, 443), "web");
  EXPECT_EQ(t.name(17, 443), "https") << "UDP entry untouched";

  const ServicePorts ports = t.service_ports();
  EXPECT_TRUE(ports.contains(6, 8443));
  EXPECT_TRUE(ports.contains(17, 53));
  EXPECT_FALSE(ports.contains(6, 50123));
}

TEST(ServiceTable, ErrorsNameTheLine) {
  ServiceTable t;
  auto bad = t.add_text("tcp 80 http\ntcp eighty http\n", "site.tsv");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("site.tsv:2:"), std::string::npos);
  auto proto = t.add_text("icmp 8 echo\n", "site.tsv");
  ASSERT_FALSE(proto);
  EXPECT_NE(proto.error().message.find("tcp, udp or sctp"), std::string::npos);
  EXPECT_FALSE(t.add_file("/nonexistent/services.tsv"));
}

}  // namespace
}  // namespace flowscope::enrich
