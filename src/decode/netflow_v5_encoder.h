#pragma once
// NetFlow v5 export datagrams (Cisco "NetFlow Export Datagram Format", the layout that
// netflow_v5.cpp reads): a 24-byte header and up to 30 fixed 48-byte IPv4 records. IPv6 flows
// cannot be carried and are skipped. One encoder per exporter (see flow_encoder.h).
// Internal to flowscope_decode: other modules use its public headers.

#include "decode/flow_encoder.h"

namespace flowscope::decode {

class NetflowV5Encoder final : public FlowEncoder {
 public:
  NetflowV5Encoder(const ExporterConfig& config, TimeMs boot);

  void restart(TimeMs now) override;
  std::size_t encode(const FlowBatch& batch, std::size_t begin, std::size_t end, TimeMs now,
                     DatagramBuffer& out) override;
  std::size_t datagram_budget() const override;
  std::size_t record_cost(bool ipv6, bool new_set) const override;

 private:
  std::size_t records_per_datagram() const;

  ExporterConfig config_;
  TimeMs boot_;
  std::uint32_t flow_sequence_ = 0;  // flows exported before the next datagram
};

}  // namespace flowscope::decode
