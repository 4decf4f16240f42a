#include "enrich/reverse_dns.h"

#include <gtest/gtest.h>

#include "enrich/enricher.h"
#include "enrich/tiny_dns.h"

namespace flowscope::enrich {
namespace {

using namespace std::chrono_literals;

IpAddress ip(std::string_view s) { return *IpAddress::parse(s); }

ReverseDnsConfig config_for(const testing::TinyDns& dns) {
  ReverseDnsConfig c;
  c.servers = {dns.server()};
  c.timeout = 300ms;  // the silent case fails after this
  c.tries = 1;
  return c;
}

std::optional<NameState> state_of(const IpInfoTable& t, const IpAddress& a) {
  auto info = t.get(a);
  return info ? std::optional<NameState>(info->state) : std::nullopt;
}

TEST(ReverseDns, AnswersNxdomainAndTimeouts) {
  testing::TinyDns dns;
  ASSERT_TRUE(dns.ok());
  dns.answer("1.2.0.192.in-addr.arpa", "host1.example.test");
  dns.nxdomain("2.2.0.192.in-addr.arpa");
  dns.answer("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
             "v6host.example.test");
  IpInfoTable table;
  auto rdns = ReverseDns::start(config_for(dns), table);
  ASSERT_TRUE(rdns) << rdns.error().message;
  EXPECT_TRUE((*rdns)->request(ip("192.0.2.1")));
  EXPECT_TRUE((*rdns)->request(ip("192.0.2.2")));
  EXPECT_TRUE((*rdns)->request(ip("192.0.2.3")));  // the server stays silent
  EXPECT_TRUE((*rdns)->request(ip("2001:db8::1")));
  ASSERT_TRUE((*rdns)->wait_idle(10s));

  auto host = table.get(ip("192.0.2.1"));
  ASSERT_TRUE(host);
  EXPECT_EQ(host->state, NameState::Resolved);
  EXPECT_EQ(host->name, "host1.example.test");
  EXPECT_EQ(table.get(ip("2001:db8::1"))->name, "v6host.example.test");
  EXPECT_EQ(state_of(table, ip("192.0.2.2")), NameState::NotFound);
  EXPECT_EQ(state_of(table, ip("192.0.2.3")), NameState::Failed);
  ReverseDnsStats s = (*rdns)->stats();
  EXPECT_EQ(s.resolved, 2u);
  EXPECT_EQ(s.not_found, 1u);
  EXPECT_EQ(s.timeouts, 1u);
  EXPECT_EQ(s.sent, 4u);

  // Cache and negative cache: no new queries for known answers.
  const std::size_t queries = dns.queries();
  EXPECT_TRUE((*rdns)->request(ip("192.0.2.1")));
  EXPECT_TRUE((*rdns)->request(ip("192.0.2.2")));
  EXPECT_TRUE((*rdns)->request(ip("192.0.2.3")));
  ASSERT_TRUE((*rdns)->wait_idle(10s));
  EXPECT_EQ((*rdns)->stats().cached, 3u);
  EXPECT_EQ((*rdns)->stats().sent, 4u);
  EXPECT_EQ(dns.queries(), queries);

  // --all re-resolves everything; the partial refresh only what never got an answer.
  EXPECT_EQ((*rdns)->refresh(false), 0u);
  EXPECT_EQ((*rdns)->refresh(true), 4u);
  ASSERT_TRUE((*rdns)->wait_idle(10s));
  EXPECT_EQ((*rdns)->stats().sent, 8u);
}

TEST(ReverseDns, IngestNeverWaitsForDns) {
  testing::TinyDns dns;
  ASSERT_TRUE(dns.ok());
  dns.answer("7.113.0.203.in-addr.arpa", "client.example.test");
  dns.answer("9.100.51.198.in-addr.arpa", "server.example.test");
  dns.hold(true);  // the server receives queries but answers nothing until released
  IpInfoTable table;
  ReverseDnsConfig c = config_for(dns);
  c.timeout = 30s;  // a resolver that waited would hang the test, not fail it quietly
  auto rdns = ReverseDns::start(c, table);
  ASSERT_TRUE(rdns);

  Enricher enricher({nullptr, nullptr, nullptr, rdns->get()});
  SessionBatch batch;
  const std::size_t row = batch.add_row();
  batch.set<FieldId::ClnAddr>(row, ip("203.0.113.7"));
  batch.set<FieldId::SrvAddr>(row, ip("198.51.100.9"));
  enricher.enrich(batch);  // returns while both queries are unanswered:
  ASSERT_TRUE(dns.wait_queries(2, 10s));
  EXPECT_EQ(state_of(table, ip("203.0.113.7")), NameState::Queued);
  EXPECT_EQ(state_of(table, ip("198.51.100.9")), NameState::Queued);
  EXPECT_EQ((*rdns)->stats().in_flight, 2u);
  EXPECT_EQ(enricher.stats().dns_requests, 2u);

  // Enriching the same addresses again asks nobody (the enricher's recent-address memory).
  enricher.enrich(batch);
  EXPECT_EQ(enricher.stats().dns_requests, 2u);

  dns.hold(false);
  ASSERT_TRUE((*rdns)->wait_idle(10s));
  EXPECT_EQ(table.get(ip("203.0.113.7"))->name, "client.example.test");
  EXPECT_EQ(table.get(ip("198.51.100.9"))->name, "server.example.test");
}

TEST(ReverseDns, RateLimitDefersQueries) {
  testing::TinyDns dns;
  ASSERT_TRUE(dns.ok());
  for (int i = 1; i <= 3; ++i) dns.answer(std::to_string(i) + ".2.0.192.in-addr.arpa", "h.test");
  IpInfoTable table;
  ReverseDnsConfig c = config_for(dns);
  c.queries_per_second = 0.01;  // one token now, the next in 100 s
  c.burst = 1;
  auto rdns = ReverseDns::start(c, table);
  ASSERT_TRUE(rdns);
  for (int i = 1; i <= 3; ++i) (*rdns)->request(IpAddress::v4(0xC0000200u + i));
  ASSERT_TRUE(dns.wait_queries(1, 10s));
  EXPECT_FALSE((*rdns)->wait_idle(100ms)) << "two queries wait for tokens";
  const ReverseDnsStats s = (*rdns)->stats();
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.queued, 2u);
  EXPECT_GT(s.rate_limited, 0u);
  EXPECT_EQ(dns.queries(), 1u);
}

TEST(ReverseDns, BoundedQueueDropsAndRemembersForRefresh) {
  testing::TinyDns dns;
  ASSERT_TRUE(dns.ok());
  IpInfoTable table;
  ReverseDnsConfig c = config_for(dns);
  c.queries_per_second = 0.01;
  c.burst = 1;
  c.max_queued = 1;
  auto rdns = ReverseDns::start(c, table);
  ASSERT_TRUE(rdns);
  ASSERT_TRUE((*rdns)->request(ip("192.0.2.1")));
  ASSERT_TRUE(dns.wait_queries(1, 10s));  // sent: the queue is empty again
  EXPECT_TRUE((*rdns)->request(ip("192.0.2.2")));
  EXPECT_FALSE((*rdns)->request(ip("192.0.2.3"))) << "queue full";
  EXPECT_EQ((*rdns)->stats().dropped_full, 1u);
  EXPECT_EQ(state_of(table, ip("192.0.2.3")), NameState::New) << "kept for a refresh";
  EXPECT_EQ(table.refresh_candidates(false).size(), 1u);
}

TEST(ReverseDns, BadServerIsAnError) {
  IpInfoTable table;
  ReverseDnsConfig c;
  c.servers = {"not an address"};
  auto rdns = ReverseDns::start(c, table);
  ASSERT_FALSE(rdns);
  EXPECT_NE(rdns.error().message.find("host:port"), std::string::npos);
}

}  // namespace
}  // namespace flowscope::enrich
