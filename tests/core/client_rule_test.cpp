#include "core/client_rule.h"

#include <gtest/gtest.h>

#include "core/tcp_flags.h"

namespace flowscope {
namespace {

using namespace tcp_flags;
const ServicePorts kServices = ServicePorts::well_known();

TEST(ClientRule, SynSeenOnBothSidesTheEarlierSideIsTheClient) {
  // Endpoint 1 sent SYN first (t=100); endpoint 0 answered SYN-ACK (t=101). Ports say nothing
  // (both high), so only the SYN timing can find the client.
  const SideView sides[2] = {{true, 40000, kSyn | kAck | kFin, 101, false},
                             {true, 50000, kSyn | kAck | kFin, 100, false}};
  const auto d = decide_client(6, sides, kServices, 0);
  EXPECT_EQ(d.client, 1);
  EXPECT_EQ(d.reason, ClientReason::SynFirst);
}

TEST(ClientRule, BareSynIsTheClientEvenTowardsAHighPort) {
  // A refused connection: SYN without ACK from endpoint 0 to port 443 on endpoint 1... reversed
  // here on purpose: the SYN side has the *lower* port, which the port rule would call server.
  const SideView sides[2] = {{true, 22, kSyn, 100, false}, {true, 60000, kRst | kAck, 100, false}};
  const auto d = decide_client(6, sides, kServices, 1);
  EXPECT_EQ(d.client, 0);
  EXPECT_EQ(d.reason, ClientReason::SynOnly);
}

TEST(ClientRule, SynLostFallsBackToTheServicePort) {
  // Mid-stream start: neither side carries SYN; endpoint 0 talks from 443.
  const SideView sides[2] = {{true, 443, kAck | kPsh, 100, false},
                             {true, 51000, kAck | kPsh, 99, false}};
  const auto d = decide_client(6, sides, kServices, 0);
  EXPECT_EQ(d.client, 1);
  EXPECT_EQ(d.reason, ClientReason::ServicePort);
}

TEST(ClientRule, OneSidedSynAckDecidesNothingAndPortsDecide) {
  // Only the server's direction was exported: SYN|ACK from 3306.
  const SideView sides[2] = {{true, 3306, kSyn | kAck, 100, false}, {false, 40001, 0, 0, false}};
  const auto d = decide_client(6, sides, kServices, 0);
  EXPECT_EQ(d.client, 1);
  EXPECT_EQ(d.reason, ClientReason::ServicePort);
}

TEST(ClientRule, BothPortsHighTheHigherPortIsTheClient) {
  const SideView sides[2] = {{true, 40000, kAck, 100, false}, {true, 50000, kAck, 100, false}};
  const auto d = decide_client(6, sides, kServices, 0);
  EXPECT_EQ(d.client, 1);
  EXPECT_EQ(d.reason, ClientReason::HigherPort);
  const auto udp = decide_client(17, sides, kServices, 0);
  EXPECT_EQ(udp.client, 1);
}

TEST(ClientRule, BothPortsServicesTheLowerIsTheServer) {
  const SideView sides[2] = {{true, 123, 0, 100, false}, {true, 53, 0, 100, false}};
  const auto d = decide_client(17, sides, kServices, 1);
  EXPECT_EQ(d.client, 0);
  EXPECT_EQ(d.reason, ClientReason::ServicePort);
}

TEST(ClientRule, EqualPortsTheFirstSeenIsTheClient) {
  const SideView sides[2] = {{true, 5000, 0, 100, false}, {true, 5000, 0, 100, false}};
  EXPECT_EQ(decide_client(17, sides, kServices, 1).client, 1);
  EXPECT_EQ(decide_client(17, sides, kServices, 0).reason, ClientReason::FirstSeen);
}

TEST(ClientRule, EchoRequesterIsTheClient) {
  const SideView sides[2] = {{true, 0, 0, 100, false}, {true, 0, 0, 100, true}};
  const auto d = decide_client(1, sides, kServices, 0);
  EXPECT_EQ(d.client, 1);
  EXPECT_EQ(d.reason, ClientReason::EchoRequest);
}

TEST(ServicePorts, WellKnownAndProtocolFamilies) {
  EXPECT_TRUE(kServices.contains(6, 443));
  EXPECT_TRUE(kServices.contains(132, 443));  // SCTP shares the stream set
  EXPECT_TRUE(kServices.contains(17, 53));
  EXPECT_FALSE(kServices.contains(17, 22));
  EXPECT_FALSE(kServices.contains(1, 443));
  EXPECT_FALSE(kServices.contains(6, 50000));
}

}  // namespace
}  // namespace flowscope
