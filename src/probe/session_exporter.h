#pragma once
// SessionExporter: sends the flow meter's sessions to a collector as NetFlow v5, v9 or IPFIX,
// with decode's encoders (decode/flow_encoder.h) and core's UDP sender and pcap writer. Each
// session becomes two one-way flow records, client to server and server to client (a side that
// sent nothing gives no record). It lives in the probe, the first module that links both capture
// and decode, which are siblings (docs/architecture.md). The probe opens it at the first packet
// and finishes it at the end of the run (probe/probe.h).
// One exporter per thread.
// Internal to flowscope_probe: other modules use its public headers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/pcap_writer.h"
#include "core/record_batch.h"
#include "core/time.h"
#include "core/udp_sender.h"
#include "decode/flow_encoder.h"

namespace flowscope::probe {

struct ExportOptions {
  decode::ExportFormat format = decode::ExportFormat::Ipfix;
  std::string target;  // HOST:PORT, or empty
  std::string pcap;    // also write the datagrams to this pcap file, or empty
  std::uint32_t source_id = 1;
};

class SessionExporter {
 public:
  // Opens the destination and the pcap file; `boot` is the exporter's start (v5/v9 uptime 0).
  static Result<std::unique_ptr<SessionExporter>> open(const ExportOptions& options, TimeMs boot);

  // Exports every row of `sessions` as flow records in datagrams stamped `now`.
  Result<void> add(const SessionBatch& sessions, TimeMs now);
  // Flushes and closes the pcap file.
  Result<void> finish();

  std::uint64_t flows() const { return flows_; }
  std::uint64_t datagrams() const { return encoder_->datagrams(); }
  std::uint64_t skipped() const { return encoder_->skipped(); }  // IPv6 flows in v5
  const std::string& destination() const;

 private:
  SessionExporter() = default;

  ExportOptions options_;
  std::unique_ptr<decode::FlowEncoder> encoder_;
  std::optional<UdpSender> sender_;
  std::optional<PcapWriter> pcap_;
  UdpEndpoints endpoints_{0x7F000001, 0, 0x7F000001, 0};
  FlowBatch flows_batch_;
  decode::DatagramBuffer buffer_;
  std::vector<std::span<const std::byte>> views_;
  std::uint64_t flows_ = 0;
};

}  // namespace flowscope::probe
