#include "gen/flow_model.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/ip_proto.h"
#include "core/tcp_flags.h"

namespace flowscope::gen {
namespace {

// A service: its port and protocol, its weight among sessions, and the median bytes per packet
// each side sends. `short_exchange`: one request and one answer (DNS, NTP, SNMP).
struct Service {
  std::uint16_t port;
  std::uint8_t proto;
  double weight;
  double client_packet_bytes;
  double server_packet_bytes;
  bool short_exchange;
};

// Shares loosely after published enterprise-edge mixes: web dominates, then DNS; mail, remote
// access and time are a few percent. ICMP echo is the "port" 8*256 (type 8, code 0).
constexpr Service kServices[] = {
    {443, ip_proto::kTcp, 40, 110, 1100, false}, {80, ip_proto::kTcp, 15, 120, 1000, false},
    {53, ip_proto::kUdp, 15, 70, 140, true},     {22, ip_proto::kTcp, 3, 90, 120, false},
    {25, ip_proto::kTcp, 2, 600, 80, false},     {123, ip_proto::kUdp, 3, 76, 76, true},
    {8080, ip_proto::kTcp, 3, 120, 900, false},  {993, ip_proto::kTcp, 2, 100, 700, false},
    {3389, ip_proto::kTcp, 2, 150, 700, false},  {445, ip_proto::kTcp, 2, 300, 900, false},
    {161, ip_proto::kUdp, 1, 90, 300, true},     {3306, ip_proto::kTcp, 1, 200, 600, false},
    {853, ip_proto::kTcp, 1, 100, 200, false},   {0x0800, ip_proto::kIcmp, 1, 84, 84, true},
};

constexpr std::uint8_t kTcpSession =
    tcp_flags::kSyn | tcp_flags::kAck | tcp_flags::kPsh | tcp_flags::kFin;
constexpr std::uint8_t kTcpRefused = tcp_flags::kRst | tcp_flags::kAck;

std::uint64_t clamp_round(double v, double lo, double hi) {
  return static_cast<std::uint64_t>(std::llround(std::clamp(v, lo, hi)));
}

IpAddress client_address(std::uint32_t rank, bool v6) {
  // 10.0.0.0/8 (RFC 1918) and 2001:db8:c::/48 (RFC 3849 documentation).
  if (!v6) return IpAddress::v4(0x0A000001u + rank);
  return IpAddress::from_u64(0x20010DB8000C0000ULL, std::uint64_t{rank} + 1);
}

IpAddress server_address(std::uint32_t rank, bool v6) {
  // 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8:5::/48.
  if (!v6) return IpAddress::v4(0xC6120001u + rank);
  return IpAddress::from_u64(0x20010DB800050000ULL, std::uint64_t{rank} + 1);
}

}  // namespace

double Rng::normal() {
  // Box-Muller; one of the pair is dropped to keep the state a single integer.
  const double u1 = uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double Rng::log_normal(double median, double sigma) { return median * std::exp(sigma * normal()); }

double Rng::exponential(double mean) { return -mean * std::log(uniform()); }

ZipfSampler::ZipfSampler(std::uint32_t n, double s) : cdf_(n) {
  double sum = 0;
  for (std::uint32_t rank = 0; rank < n; ++rank) {
    sum += 1.0 / std::pow(static_cast<double>(rank) + 1.0, s);
    cdf_[rank] = sum;
  }
  for (double& c : cdf_) c /= sum;
}

std::uint32_t ZipfSampler::sample(Rng& rng) const {
  const double u = rng.uniform();
  auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
  if (it == cdf_.end()) --it;  // u rounds to 1.0 above the last cdf value
  return static_cast<std::uint32_t>(it - cdf_.begin());
}

FlowModel::FlowModel(const FlowModelConfig& config, std::uint64_t seed)
    : config_(config),
      rng_(seed),
      clients_(std::max<std::uint32_t>(1, config.clients), config.zipf_exponent),
      servers_(std::max<std::uint32_t>(1, config.servers), config.zipf_exponent) {
  double sum = 0;
  for (const Service& s : kServices) service_cdf_.push_back(sum += s.weight);
  for (double& c : service_cdf_) c /= sum;
}

std::size_t FlowModel::add_session(TimeMs now, FlowBatch& batch, std::size_t max_rows) {
  const double pick = rng_.uniform();
  const auto service_idx = static_cast<std::size_t>(
      std::lower_bound(service_cdf_.begin(), service_cdf_.end() - 1, pick) - service_cdf_.begin());
  const Service& svc = kServices[service_idx];
  const bool v6 = rng_.uniform() <= config_.ipv6_share;
  const std::uint32_t client = clients_.sample(rng_);
  const std::uint32_t server = servers_.sample(rng_);
  const bool icmp = svc.proto == ip_proto::kIcmp;
  const std::uint8_t proto = icmp && v6 ? ip_proto::kIcmpV6 : svc.proto;
  // IANA dynamic range 49152-65535 (RFC 6335 §6).
  const auto client_port = static_cast<std::uint16_t>(icmp ? 0 : 49152 + rng_.below(16384));
  // ICMP echo request 8/0 (v6: 128/0) one way, reply 0/0 (v6: 129/0) the other.
  const std::uint16_t request_port = icmp ? (v6 ? 128 << 8 : svc.port) : svc.port;
  const std::uint16_t reply_port = icmp ? (v6 ? 129 << 8 : 0) : client_port;

  // Packets per flow: log-normal around 8 for conversations; one or two for exchanges.
  const bool refused = svc.proto == ip_proto::kTcp && rng_.uniform() < 0.03;
  std::uint64_t client_packets =
      svc.short_exchange ? 1 + rng_.below(2) : clamp_round(rng_.log_normal(8, 1.2), 1, 1e6);
  std::uint64_t server_packets =
      svc.short_exchange ? client_packets
                         : clamp_round(double(client_packets) * rng_.log_normal(1.2, 0.3), 1, 1e6);
  if (refused) client_packets = server_packets = 1;
  const std::size_t ip_header = v6 ? 40 : 20;
  auto packet_bytes = [&](double median) {
    return clamp_round(rng_.log_normal(median, 0.4), double(ip_header + 8), 1500);
  };
  const std::uint64_t client_bytes = client_packets * packet_bytes(svc.client_packet_bytes);
  const std::uint64_t server_bytes = server_packets * packet_bytes(svc.server_packet_bytes);
  // Durations: exponential, mean 8 s for conversations, 40 ms for exchanges; a single packet
  // has none.
  const auto duration = static_cast<std::int64_t>(
      client_packets == 1 ? 0 : rng_.exponential(svc.short_exchange ? 40 : 8000));
  const auto rtt = static_cast<std::int64_t>(1 + rng_.below(60));
  // The session ended up to half a second before it is exported.
  const std::int64_t client_last = to_ms(now) - static_cast<std::int64_t>(rng_.below(500));
  const std::int64_t client_first = client_last - duration;
  const std::uint8_t tos = rng_.uniform() < 0.1 ? 0x28 : 0;  // AF11 on a tenth

  const IpAddress caddr = client_address(client, v6);
  const IpAddress saddr = server_address(server, v6);
  const IpAddress outside_hop = v6 ? IpAddress::from_u64(0x20010DB8FFFF0000ULL, 1)
                                   : IpAddress::v4(0xC00002FE);  // 192.0.2.254
  const IpAddress inside_hop = v6 ? IpAddress::from_u64(0x20010DB8000C0000ULL, 0xFE)
                                  : IpAddress::v4(0x0A0000FE);  // 10.0.0.254
  const std::uint32_t server_as = 64600 + server % 300;         // private ASNs (RFC 6996)
  constexpr std::uint32_t kClientAs = 64512;

  // One direction of the session; the two differ in endpoints, counts and interfaces only.
  struct Direction {
    IpAddress src, dst;
    std::uint16_t src_port, dst_port;
    std::uint8_t tcp_flags;
    std::uint64_t packets, bytes;
    std::int64_t first;
    std::uint32_t in_if, out_if;
    IpAddress next_hop;
    std::uint32_t src_as, dst_as;
    std::uint8_t src_mask, dst_mask;
    std::uint16_t in_vlan, out_vlan;
  };
  auto write = [&](const Direction& d) {
    const std::size_t row = batch.add_row();
    batch.set<FieldId::SrcAddr>(row, d.src);
    batch.set<FieldId::DstAddr>(row, d.dst);
    batch.set<FieldId::SrcPort>(row, d.src_port);
    batch.set<FieldId::DstPort>(row, d.dst_port);
    batch.set<FieldId::Proto>(row, proto);
    batch.set<FieldId::Tos>(row, tos);
    batch.set<FieldId::TcpFlags>(row, d.tcp_flags);
    batch.set<FieldId::FlowPackets>(row, d.packets);
    batch.set<FieldId::FlowBytes>(row, d.bytes);
    batch.set<FieldId::First>(row, d.first);
    batch.set<FieldId::Last>(row, client_last);
    batch.set<FieldId::InIf>(row, d.in_if);
    batch.set<FieldId::OutIf>(row, d.out_if);
    batch.set<FieldId::NextHop>(row, d.next_hop);
    batch.set<FieldId::SrcAs>(row, d.src_as);
    batch.set<FieldId::DstAs>(row, d.dst_as);
    batch.set<FieldId::SrcMask>(row, d.src_mask);
    batch.set<FieldId::DstMask>(row, d.dst_mask);
    batch.set<FieldId::SrcVlan>(row, d.in_vlan);
    batch.set<FieldId::DstVlan>(row, d.out_vlan);
    batch.set<FieldId::Direction>(row, 0);
  };
  const bool tcp = svc.proto == ip_proto::kTcp;
  const std::uint8_t mask_client = v6 ? 64 : 24;
  const std::uint8_t mask_server = v6 ? 48 : 20;
  // Client to server: in on interface 1 (inside, VLAN 100), out on 2 (VLAN 200); the reverse
  // flow mirrors both, so the stitcher pairs the two directions (docs/sessions.md).
  write({caddr, saddr, client_port, request_port,
         static_cast<std::uint8_t>(tcp ? (refused ? tcp_flags::kSyn : kTcpSession) : 0),
         client_packets, client_bytes, client_first, 1, 2, outside_hop, kClientAs, server_as,
         mask_client, mask_server, 100, 200});
  if (max_rows < 2) return 1;
  // Server to client: in on 2, out on 1; starts one round trip later.
  write({saddr, caddr, static_cast<std::uint16_t>(icmp ? 0 : svc.port), reply_port,
         static_cast<std::uint8_t>(tcp ? (refused ? kTcpRefused : kTcpSession) : 0), server_packets,
         server_bytes, std::min(client_first + rtt, client_last), 2, 1, inside_hop, server_as,
         kClientAs, mask_server, mask_client, 200, 100});
  return 2;
}

}  // namespace flowscope::gen
