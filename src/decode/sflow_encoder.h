#pragma once
// sFlow v5 datagrams (sflow.org sflow_version_5.txt, XDR) from one-way flow records, the layout
// that sflow.cpp reads. sFlow samples packets rather than exporting flows, so each record
// becomes one flow sample: a synthesized sampled header (Ethernet, IPv4 or IPv6, TCP or UDP)
// whose IP length is the record's average packet size, with extended switch (VLAN), router
// (next hop, masks) and gateway (AS numbers) records. A collector reads it back as `sampling`
// packets of that size (docs/decode.md). Counter samples (generic interface counters, totals of
// what was encoded per interface) go out every `refresh_every` datagrams. One encoder per agent.
// Internal to flowscope_decode: other modules use its public headers.

#include <map>
#include <vector>

#include "decode/flow_encoder.h"

namespace flowscope {
class ByteWriter;
}

namespace flowscope::decode {

class SflowEncoder final : public FlowEncoder {
 public:
  SflowEncoder(const ExporterConfig& config, TimeMs boot);

  void restart(TimeMs now) override;
  std::size_t encode(const FlowBatch& batch, std::size_t begin, std::size_t end, TimeMs now,
                     DatagramBuffer& out) override;
  std::size_t datagram_budget() const override;
  std::size_t record_cost(bool ipv6, bool new_set) const override;

  // The IP length the sampled header of a record declares: its average packet size, at least
  // the headers it contains, at most 65535 (what a collector multiplies by the rate).
  static std::uint32_t sampled_ip_length(const FlowBatch& batch, std::size_t row);

 private:
  struct IfTotals {
    std::uint64_t in_octets = 0;
    std::uint64_t out_octets = 0;
    std::uint32_t in_packets = 0;
    std::uint32_t out_packets = 0;
  };
  // Appends one flow sample to `buf` (the datagram being written).
  void write_flow_sample(std::vector<std::byte>& buf, const FlowBatch& batch, std::size_t row);
  void write_counter_sample(ByteWriter& w, std::uint32_t if_index, const IfTotals& totals);
  std::uint32_t rate() const { return config_.sampling == 0 ? 1 : config_.sampling; }

  ExporterConfig config_;
  TimeMs boot_;
  std::uint32_t sequence_ = 0;         // datagrams
  std::uint32_t flow_samples_ = 0;     // flow sample sequence
  std::uint32_t counter_samples_ = 0;  // counter sample sequence
  std::uint32_t since_counters_ = 0;
  // Interfaces seen, bounded: a generator uses a handful; more are not reported.
  static constexpr std::size_t kMaxInterfaces = 16;
  std::map<std::uint32_t, IfTotals> interfaces_;
};

}  // namespace flowscope::decode
