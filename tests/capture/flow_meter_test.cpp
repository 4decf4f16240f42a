#include "capture/flow_meter.h"

#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/tcp_flags.h"

namespace flowscope::capture {
namespace {

using namespace tcp_flags;
constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kT0 = 1'700'000'000 * kNsPerSecond;

constexpr std::uint32_t kClient = 0x0A000001;  // 10.0.0.1
constexpr std::uint32_t kServer = 0x0A000002;  // 10.0.0.2

struct Pkt {
  std::uint32_t src = kClient;
  std::uint32_t dst = kServer;
  std::uint8_t proto = 6;
  std::uint16_t sport = 40000;
  std::uint16_t dport = 80;
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 1000;
  std::string_view payload;
  std::uint16_t frag = 0;  // IPv4 flags/offset word
  std::uint16_t ip_id = 1;
  std::vector<std::uint32_t> mpls;  // label stack, outermost first
  std::uint16_t vlan = 0;
};

void put16(std::vector<std::byte>& b, unsigned v) {
  b.push_back(std::byte(v >> 8));
  b.push_back(std::byte(v & 0xFF));
}
void put32(std::vector<std::byte>& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xFFFF);
}

// IPv4 packet with a TCP or UDP header (or none for later fragments).
std::vector<std::byte> ipv4(const Pkt& p, bool transport = true) {
  std::vector<std::byte> l4;
  if (transport && p.proto == 6) {
    put16(l4, p.sport);
    put16(l4, p.dport);
    put32(l4, p.seq);
    put32(l4, p.ack);
    l4.push_back(std::byte(0x50));
    l4.push_back(std::byte(p.flags));
    put16(l4, p.window);
    put32(l4, 0);
  } else if (transport && p.proto == 17) {
    put16(l4, p.sport);
    put16(l4, p.dport);
    put16(l4, 8 + static_cast<unsigned>(p.payload.size()));
    put16(l4, 0);
  }
  for (char c : p.payload) l4.push_back(std::byte(c));
  std::vector<std::byte> ip;
  ip.push_back(std::byte(0x45));
  ip.push_back(std::byte(0));
  put16(ip, 20 + static_cast<unsigned>(l4.size()));
  put16(ip, p.ip_id);
  put16(ip, p.frag);
  ip.push_back(std::byte(64));
  ip.push_back(std::byte(p.proto));
  put16(ip, 0);
  put32(ip, p.src);
  put32(ip, p.dst);
  ip.insert(ip.end(), l4.begin(), l4.end());
  return ip;
}

std::vector<std::byte> ethernet(const Pkt& p, const std::vector<std::byte>& payload,
                                unsigned type = 0x0800) {
  std::vector<std::byte> f(12, std::byte(0x02));
  if (p.vlan != 0) {
    put16(f, 0x8100);
    put16(f, p.vlan);
  }
  if (!p.mpls.empty()) {
    put16(f, 0x8847);
    for (std::size_t i = 0; i < p.mpls.size(); ++i) {
      const bool bottom = i + 1 == p.mpls.size();
      put32(f, p.mpls[i] << 12 | (bottom ? 0x100 : 0) | 64);
    }
  } else {
    put16(f, type);
  }
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

std::vector<std::byte> frame(const Pkt& p) { return ethernet(p, ipv4(p)); }

Pkt reply(Pkt p) {
  std::swap(p.src, p.dst);
  std::swap(p.sport, p.dport);
  return p;
}

struct Harness {
  explicit Harness(MeterConfig config = {}) : meter(std::move(config)) {}
  void send(const Pkt& p, TimeNs t) {
    const auto f = frame(p);
    meter.add(LinkType::Ethernet, f, f.size(), t, out);
  }
  void raw(const std::vector<std::byte>& f, TimeNs t) {
    meter.add(LinkType::Ethernet, f, f.size(), t, out);
  }
  FlowMeter meter;
  SessionBatch out;
};

TEST(FlowMeter, HandshakeDataAndFinMakeOneEstablishedSession) {
  Harness h;
  Pkt c;
  Pkt s = reply(c);
  c.flags = kSyn, c.seq = 100;
  h.send(c, kT0);
  s.flags = kSyn | kAck, s.seq = 500, s.ack = 101;
  h.send(s, kT0 + 10 * kMs);  // server side RTT 10 ms
  c.flags = kAck, c.seq = 101, c.ack = 501;
  h.send(c, kT0 + 13 * kMs);  // client side RTT 3 ms
  c.flags = kAck | kPsh, c.payload = "GET / HTTP/1.0\r\n\r\n";
  h.send(c, kT0 + 14 * kMs);
  s.flags = kAck | kPsh, s.seq = 501, s.ack = 119, s.payload = "HTTP/1.0 200 OK\r\n\r\n";
  h.send(s, kT0 + 30 * kMs);
  s.flags = kAck | kFin, s.seq = 520, s.payload = "";
  h.send(s, kT0 + 31 * kMs);
  c.flags = kAck | kFin, c.seq = 119, c.ack = 521, c.payload = "";
  h.send(c, kT0 + 32 * kMs);
  s.flags = kAck, s.seq = 521, s.ack = 120;
  h.send(s, kT0 + 33 * kMs);
  EXPECT_EQ(h.out.size(), 0u) << "lingers fin_timeout after both FINs";
  h.meter.advance(kT0 + 33 * kMs + MeterConfig{}.fin_timeout - 1, h.out);
  EXPECT_EQ(h.out.size(), 0u);
  h.meter.advance(kT0 + 33 * kMs + MeterConfig{}.fin_timeout, h.out);
  ASSERT_EQ(h.out.size(), 1u) << "closed fin_timeout after the last packet";
  const SessionBatch& b = h.out;
  EXPECT_EQ(b.get<FieldId::ClnAddr>(0), IpAddress::v4(kClient));
  EXPECT_EQ(b.get<FieldId::SrvPort>(0), 80);
  EXPECT_EQ(b.get<FieldId::ClnPackets>(0), 4u);
  EXPECT_EQ(b.get<FieldId::SrvPackets>(0), 4u);
  EXPECT_EQ(b.get<FieldId::ClnBytes>(0), 4u * 40 + 18);
  EXPECT_EQ(b.get<FieldId::SrvBytes>(0), 4u * 40 + 19);
  EXPECT_EQ(b.get<FieldId::SrvRtt>(0), 10'000u);
  EXPECT_EQ(b.get<FieldId::ClnRtt>(0), 3'000u);
  EXPECT_EQ(b.get<FieldId::ClnRetrans>(0), 0u);
  EXPECT_EQ(b.get<FieldId::TcpOutcome>(0), static_cast<std::uint8_t>(TcpOutcome::Established));
  EXPECT_EQ(b.get<FieldId::EndReason>(0), static_cast<std::uint8_t>(EndReason::EndOfFlow));
  EXPECT_EQ(b.get<FieldId::StartTime>(0), kT0 / kMs);
  EXPECT_EQ(b.get<FieldId::EndTime>(0), kT0 / kMs + 33);
  EXPECT_EQ(h.meter.stats().closed_fin, 1u);
  EXPECT_EQ(h.meter.open_flows(), 0u);
}

// Both sides close at once (each FIN crosses the other's): the two last ACKs come after both
// FINs. They stay in the session instead of starting a one-packet session on the same 5-tuple.
TEST(FlowMeter, SimultaneousCloseStaysOneSession) {
  Harness h;
  Pkt c;
  Pkt s = reply(c);
  c.flags = kSyn, c.seq = 100;
  h.send(c, kT0);
  s.flags = kSyn | kAck, s.seq = 500, s.ack = 101;
  h.send(s, kT0 + 1 * kMs);
  c.flags = kAck, c.seq = 101, c.ack = 501;
  h.send(c, kT0 + 2 * kMs);
  c.flags = kAck | kFin;
  h.send(c, kT0 + 3 * kMs);
  s.flags = kAck | kFin, s.seq = 501, s.ack = 101;
  h.send(s, kT0 + 3 * kMs);
  c.flags = kAck, c.seq = 102, c.ack = 502;
  h.send(c, kT0 + 4 * kMs);
  s.flags = kAck, s.seq = 502, s.ack = 102;
  h.send(s, kT0 + 4 * kMs);
  h.meter.advance(kT0 + 10 * kNsPerSecond, h.out);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out.get<FieldId::ClnPackets>(0), 4u);
  EXPECT_EQ(h.out.get<FieldId::SrvPackets>(0), 3u);
  EXPECT_EQ(h.out.get<FieldId::EndReason>(0), static_cast<std::uint8_t>(EndReason::EndOfFlow));
  EXPECT_EQ(h.meter.stats().closed_fin, 1u);
  EXPECT_EQ(h.meter.stats().sessions, 1u);
}

// A new connection on the 5-tuple while the old one lingers is a new session (port reuse).
TEST(FlowMeter, NewSynWhileLingeringStartsANewSession) {
  Harness h;
  Pkt c;
  Pkt s = reply(c);
  c.flags = kSyn;
  h.send(c, kT0);
  c.flags = kAck | kFin;
  h.send(c, kT0 + 1 * kMs);
  s.flags = kAck | kFin;
  h.send(s, kT0 + 2 * kMs);
  c.flags = kSyn;
  h.send(c, kT0 + 100 * kMs);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.meter.stats().closed_reuse, 1u);
  EXPECT_EQ(h.meter.open_flows(), 1u);
  h.meter.flush(h.out);
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.out.get<FieldId::ClnPackets>(1), 1u);
}

TEST(FlowMeter, ClientIsTheSynSenderEvenWhenTheServerPacketComesFirst) {
  Harness h;
  Pkt c;
  c.sport = 80, c.dport = 40000;  // the client uses port 80 as its source: SYN decides
  c.flags = kSyn;
  h.send(c, kT0);
  Pkt s = reply(c);
  s.flags = kSyn | kAck;
  h.send(s, kT0 + kMs);
  h.meter.flush(h.out);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out.get<FieldId::ClnAddr>(0), IpAddress::v4(kClient));
  EXPECT_EQ(h.out.get<FieldId::ClnPort>(0), 80);
}

TEST(FlowMeter, SynAnsweredByRstIsRefused) {
  Harness h;
  Pkt c;
  c.flags = kSyn;
  h.send(c, kT0);
  Pkt s = reply(c);
  s.flags = kRst | kAck;
  h.send(s, kT0 + kMs);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out.get<FieldId::TcpOutcome>(0), static_cast<std::uint8_t>(TcpOutcome::Refused));
  EXPECT_EQ(h.meter.stats().closed_rst, 1u);
}

TEST(FlowMeter, UnansweredSynTimesOut) {
  MeterConfig config;
  config.idle_timeout = 5 * kNsPerSecond;
  Harness h(config);
  Pkt c;
  c.flags = kSyn;
  h.send(c, kT0);
  h.send(c, kT0 + 1 * kNsPerSecond);  // SYN retransmitted
  h.meter.advance(kT0 + 10 * kNsPerSecond, h.out);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out.get<FieldId::TcpOutcome>(0), static_cast<std::uint8_t>(TcpOutcome::TimedOut));
  EXPECT_EQ(h.out.get<FieldId::ClnRetrans>(0), 1u);
  EXPECT_EQ(h.out.get<FieldId::EndReason>(0), static_cast<std::uint8_t>(EndReason::Idle));
  EXPECT_EQ(h.out.get<FieldId::Sides>(0), 1u);
}

TEST(FlowMeter, RetransmissionAndReorderingAreTold) {
  Harness h;
  Pkt c;
  c.flags = kAck;
  c.seq = 1000;
  c.payload = std::string_view("0123456789", 10);
  h.send(c, kT0);
  c.seq = 1020;  // 1010..1019 is missing
  h.send(c, kT0 + 1 * kMs);
  c.seq = 1010;  // fills the hole right away: out of order
  h.send(c, kT0 + 2 * kMs);
  c.seq = 1000;  // old data again, long after: a retransmission
  h.send(c, kT0 + 500 * kMs);
  Pkt s = reply(c);
  s.seq = 1, s.payload = "", s.window = 0;
  h.send(s, kT0 + 501 * kMs);  // zero window
  h.send(s, kT0 + 502 * kMs);  // still zero: the same event
  h.meter.flush(h.out);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out.get<FieldId::ClnAddr>(0), IpAddress::v4(kClient));
  EXPECT_EQ(h.out.get<FieldId::ClnOutOfOrder>(0), 1u);
  EXPECT_EQ(h.out.get<FieldId::ClnRetrans>(0), 1u);
  EXPECT_EQ(h.out.get<FieldId::SrvRetrans>(0), 0u);
  EXPECT_EQ(h.out.get<FieldId::ZeroWindows>(0), 1u);
}

TEST(FlowMeter, IdleAndActiveTimeouts) {
  MeterConfig config;
  config.idle_timeout = 10 * kNsPerSecond;
  config.active_timeout = 30 * kNsPerSecond;
  Harness h(config);
  Pkt u;
  u.proto = 17, u.sport = 5353, u.dport = 53, u.payload = "q";
  h.send(u, kT0);
  h.send(u, kT0 + 20 * kNsPerSecond);  // idle 20 s > 10 s: a new session
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out.get<FieldId::EndReason>(0), static_cast<std::uint8_t>(EndReason::Idle));
  for (int s = 25; s <= 55; s += 5) h.send(reply(u), kT0 + s * kNsPerSecond);
  // Started at 20 s: the active timeout reports it at 50 s and the session goes on.
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.out.get<FieldId::EndReason>(1), static_cast<std::uint8_t>(EndReason::Active));
  h.meter.flush(h.out);
  ASSERT_EQ(h.out.size(), 3u);
  EXPECT_EQ(h.out.get<FieldId::ClnAddr>(2), h.out.get<FieldId::ClnAddr>(1))
      << "a continued session keeps its client";
  EXPECT_EQ(h.out.get<FieldId::ClnPackets>(1) + h.out.get<FieldId::SrvPackets>(1) +
                h.out.get<FieldId::ClnPackets>(2) + h.out.get<FieldId::SrvPackets>(2),
            8u);
  EXPECT_NE(h.out.get<FieldId::SessionId>(1), h.out.get<FieldId::SessionId>(2));
}

TEST(FlowMeter, MaxFlowsEvictsTheLeastRecentlySeen) {
  MeterConfig config;
  config.max_flows = 2;
  Harness h(config);
  Pkt u;
  u.proto = 17, u.dport = 53;
  for (std::uint16_t port = 1; port <= 3; ++port) {
    u.sport = port;
    h.send(u, kT0 + port * kMs);
  }
  EXPECT_EQ(h.meter.stats().evicted, 1u);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out.get<FieldId::ClnPort>(0), 1) << "the oldest flow went";
  EXPECT_EQ(h.out.get<FieldId::EndReason>(0),
            static_cast<std::uint8_t>(EndReason::LackOfResources));
  EXPECT_EQ(h.meter.open_flows(), 2u);
}

TEST(FlowMeter, LaterFragmentsJoinTheFlowOfTheirFirstFragment) {
  Harness h;
  Pkt u;
  u.proto = 17, u.sport = 7000, u.dport = 7001, u.ip_id = 77, u.payload = "first-part";
  u.frag = 0x2000;  // more fragments
  h.send(u, kT0);
  Pkt later = u;
  later.frag = 0x0003;  // offset 24 bytes, last fragment
  later.payload = "tail";
  h.raw(ethernet(later, ipv4(later, false)), kT0 + kMs);
  h.meter.flush(h.out);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out.get<FieldId::ClnPackets>(0) + h.out.get<FieldId::SrvPackets>(0), 2u);
  EXPECT_EQ(h.meter.stats().fragments, 2u);
  EXPECT_EQ(h.meter.stats().fragments_unmatched, 0u);
}

TEST(FlowMeter, MplsVlanAndGreAreOpened) {
  Harness h;
  Pkt inner;
  inner.proto = 17, inner.sport = 1111, inner.dport = 53, inner.vlan = 42;
  inner.mpls = {100, 200};
  h.send(inner, kT0);
  // The same flow inside GRE (RFC 2784, with a key) between two routers, untagged.
  std::vector<std::byte> gre;
  put16(gre, 0x2000);  // key present
  put16(gre, 0x0800);
  put32(gre, 12345);
  Pkt plain = inner;
  plain.mpls.clear();
  const auto ip = ipv4(plain);
  gre.insert(gre.end(), ip.begin(), ip.end());
  Pkt outer;
  outer.src = 0xC0000201, outer.dst = 0xC0000202, outer.proto = 47;
  std::vector<std::byte> outer_ip = ipv4(outer, false);
  outer_ip.insert(outer_ip.end(), gre.begin(), gre.end());
  outer_ip[2] = std::byte(outer_ip.size() >> 8);
  outer_ip[3] = std::byte(outer_ip.size() & 0xFF);
  Pkt untagged;
  h.raw(ethernet(untagged, outer_ip), kT0 + kMs);
  h.meter.flush(h.out);
  ASSERT_EQ(h.out.size(), 2u) << "VLAN 42 and untagged are different sessions";
  EXPECT_EQ(h.meter.stats().tunneled, 1u);
  for (std::size_t row = 0; row < 2; ++row) {
    EXPECT_EQ(h.out.get<FieldId::ClnAddr>(row), IpAddress::v4(kClient));
    EXPECT_EQ(h.out.get<FieldId::SrvPort>(row), 53);
  }
  EXPECT_TRUE(h.out.is_set(FieldId::InVlan, 0) || h.out.is_set(FieldId::InVlan, 1));
}

TEST(FlowMeter, MalformedPacketsAreCountedByKind) {
  Harness h;
  Pkt p;
  auto f = frame(p);
  h.raw(std::vector<std::byte>(f.begin(), f.begin() + 20), kT0);  // IPv4 cut at 6 bytes
  auto bad = f;
  bad[14] = std::byte(0x42);  // IHL 2
  h.raw(bad, kT0);
  std::vector<std::byte> arp(f.begin(), f.begin() + 12);
  put16(arp, 0x0806);
  arp.resize(42);
  h.raw(arp, kT0);
  const MeterStats& s = h.meter.stats();
  EXPECT_EQ(s.malformed[static_cast<std::size_t>(PacketIssue::Ipv4Truncated)], 1u);
  EXPECT_EQ(s.malformed[static_cast<std::size_t>(PacketIssue::Ipv4BadHeader)], 1u);
  EXPECT_EQ(s.not_ip, 1u);
  EXPECT_EQ(s.metered, 0u);
}

TEST(FlowMeter, FtpPassiveDataSessionIsTaggedWithItsControlSession) {
  Harness h;
  Pkt ctl;
  ctl.dport = 21;
  ctl.flags = kSyn;
  h.send(ctl, kT0);
  Pkt reply227 = reply(ctl);
  reply227.flags = kAck | kPsh;
  reply227.seq = 10;
  reply227.payload = "227 Entering Passive Mode (10,0,0,2,195,80).\r\n";
  h.send(reply227, kT0 + kMs);
  Pkt data;
  data.sport = 40001, data.dport = 195 * 256 + 80, data.flags = kSyn;
  h.send(data, kT0 + 2 * kMs);
  Pkt eprt = ctl;
  eprt.flags = kAck | kPsh, eprt.seq = 1;
  eprt.payload = "EPRT |1|10.0.0.1|50001|\r\n";
  h.send(eprt, kT0 + 3 * kMs);
  Pkt active;  // active mode: the server connects from port 20
  active.src = kServer, active.dst = kClient, active.sport = 20, active.dport = 50001;
  active.flags = kSyn;
  h.send(active, kT0 + 4 * kMs);
  h.meter.flush(h.out);
  ASSERT_EQ(h.out.size(), 3u);
  std::uint64_t control_id = 0;
  int tagged = 0;
  for (std::size_t row = 0; row < 3; ++row) {
    if (h.out.get<FieldId::SrvPort>(row) == 21) control_id = h.out.get<FieldId::SessionId>(row);
  }
  ASSERT_NE(control_id, 0u);
  for (std::size_t row = 0; row < 3; ++row) {
    if (h.out.get<FieldId::SrvPort>(row) == 21) {
      EXPECT_FALSE(h.out.is_set(FieldId::FtpControl, row));
    } else {
      EXPECT_EQ(h.out.get<FieldId::FtpControl>(row), control_id);
      ++tagged;
    }
  }
  EXPECT_EQ(tagged, 2);
  EXPECT_EQ(h.meter.stats().ftp_data_tagged, 2u);
}

TEST(FlowPacket, DecodesEveryLinkTypeOfTheCorpus) {
  Pkt p;
  const auto ip = ipv4(p);
  FlowPacket out;
  EXPECT_EQ(decode_flow_packet(LinkType::Raw, ip, out), PacketIssue::None);
  EXPECT_EQ(out.dst_port, 80);
  std::vector<std::byte> null_frame = {std::byte(2), std::byte(0), std::byte(0), std::byte(0)};
  null_frame.insert(null_frame.end(), ip.begin(), ip.end());
  EXPECT_EQ(decode_flow_packet(LinkType::Null, null_frame, out), PacketIssue::None);
  EXPECT_EQ(out.src, IpAddress::v4(kClient));
  std::vector<std::byte> sll(14, std::byte(0));
  put16(sll, 0x0800);
  sll.insert(sll.end(), ip.begin(), ip.end());
  EXPECT_EQ(decode_flow_packet(LinkType::LinuxSll, sll, out), PacketIssue::None);
  EXPECT_EQ(out.protocol, 6);
  // Cut inside the TCP header after the ports: still metered, marked snapped.
  std::vector<std::byte> snapped(ip.begin(), ip.begin() + 26);
  EXPECT_EQ(decode_flow_packet(LinkType::Raw, snapped, out), PacketIssue::None);
  EXPECT_TRUE(out.snapped);
  EXPECT_EQ(out.src_port, 40000);
  std::vector<std::byte> no_ports(ip.begin(), ip.begin() + 22);
  EXPECT_EQ(decode_flow_packet(LinkType::Raw, no_ports, out), PacketIssue::TransportTruncated);
}

}  // namespace
}  // namespace flowscope::capture
