#pragma once
// sFlow v2, v4 and v5 (sflow.org: sflow_version_4.txt, sflow_version_5.txt; XDR encoding,
// RFC 4506). Flow samples become one-way flow records: the sampled packet header (or the
// IPv4/IPv6 data record) gives addresses, ports, protocol, TCP flags, ToS and VLAN; extended
// switch/router/gateway data give VLANs, next hop, masks and AS numbers; packets and bytes are
// scaled by the sampling rate. Counter samples update a table of interface counters.
//
// v5 samples and records carry lengths, so unknown ones are skipped. v2/v4 ones do not: an
// unknown sample, record or counter type ends the datagram (the rest is counted as dropped).
// Not thread-safe: one SflowDecoder per FlowDecoder, like the rest of its state.
// Internal to flowscope_decode: other modules use its public headers.

#include <cstdint>
#include <map>
#include <utility>

#include "decode/flow_decoder.h"

namespace flowscope::decode {

// RFC 2863 interface counters as an sFlow agent last reported them.
struct InterfaceCounters {
  std::uint32_t if_index = 0;
  std::uint32_t if_type = 0;
  std::uint64_t if_speed = 0;   // bits/s
  std::uint32_t direction = 0;  // 0 unknown, 1 full duplex, 2 half, 3 in, 4 out
  std::uint32_t status = 0;     // bit 0 admin up, bit 1 oper up
  std::uint64_t in_octets = 0;
  std::uint32_t in_unicast = 0;
  std::uint32_t in_multicast = 0;
  std::uint32_t in_broadcast = 0;
  std::uint32_t in_discards = 0;
  std::uint32_t in_errors = 0;
  std::uint32_t in_unknown_protos = 0;
  std::uint64_t out_octets = 0;
  std::uint32_t out_unicast = 0;
  std::uint32_t out_multicast = 0;
  std::uint32_t out_broadcast = 0;
  std::uint32_t out_discards = 0;
  std::uint32_t out_errors = 0;
  std::uint32_t promiscuous = 0;
  TimeMs updated{};
};

class SflowDecoder final : public DatagramDecoder {
 public:
  // Keyed by (agent address, ifIndex).
  using CounterTable = std::map<std::pair<IpAddress, std::uint32_t>, InterfaceCounters>;

  std::size_t decode(const Datagram& datagram, DecodeStats& stats, FlowBatch& batch) override;

  const CounterTable& interface_counters() const { return counters_; }

 private:
  struct Agent {
    std::uint32_t sequence = 0;
    std::uint32_t uptime = 0;
    bool seen = false;
  };

  CounterTable counters_;
  std::map<std::pair<IpAddress, std::uint32_t>, Agent> agents_;  // (agent, sub-agent)
};

}  // namespace flowscope::decode
