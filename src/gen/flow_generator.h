#pragma once
// FlowGenerator: the engine of `flowscope gen flows` (docs/gen.md). Draws sessions from the
// FlowModel on a simulated clock (flow i is due at start + i / rate), hands each session to one
// of K exporters, and lets each exporter's encoder (decode/flow_encoder.h) turn its pending
// flows into datagrams when a datagram's worth is ready or its oldest flow is a second old.
// Scripted events: an exporter restart every N of its datagrams (uptime and sequence reset)
// and, for IPFIX, template withdrawals every M datagrams.
//
// Nothing here reads the wall clock or a global: output depends only on the configuration (seed
// included). Callers pace real sends by the datagrams' simulated times. One thread.
// Internal to flowscope_gen: other modules use its public headers.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/record_batch.h"
#include "core/time.h"
#include "decode/flow_encoder.h"

#include "gen/flow_model.h"

namespace flowscope::gen {

struct GenConfig {
  decode::ExportFormat format = decode::ExportFormat::NetflowV9;
  std::uint64_t seed = 1;
  TimeMs start{};
  double rate = 1000;       // flows per second of simulated time; > 0
  std::uint64_t count = 0;  // flows to emit; 0 = until `duration`
  DurationMs duration{0};   // simulated time to cover; 0 = until `count`
  unsigned exporters = 1;
  std::uint32_t sampling = 0;
  std::size_t mtu = 1400;
  std::uint32_t template_every = 20;  // datagrams between template (or counter) refreshes
  std::uint64_t restart_every = 0;    // datagrams of one exporter between restarts; 0 = never
  std::uint64_t withdraw_every = 0;   // IPFIX: datagrams between withdrawals; 0 = never
  FlowModelConfig model;
};

// One datagram ready to go: the payload stays valid until the next call to next().
struct GenDatagram {
  std::span<const std::byte> payload;
  TimeMs time;
  unsigned exporter;
  std::uint32_t exporter_ip;  // 192.0.2.(exporter + 1), host order: pcap framing, sFlow agent
};

class FlowGenerator {
 public:
  // REQUIRES: rate > 0, exporters >= 1, count > 0 or duration > 0, mtu >= 256.
  explicit FlowGenerator(const GenConfig& config);

  // The next datagrams in time order; empty when everything has been emitted.
  std::span<const GenDatagram> next();
  bool done() const { return finished_ && ready_.empty(); }
  // Ends the run early (Ctrl-C): the next call to next() hands on every exporter's pending
  // flows, as at the end of the count, so that flows() were all sent; then it is empty.
  void stop() { stopping_ = true; }

  std::uint64_t flows() const { return flows_; }  // flows drawn so far
  std::uint64_t datagrams() const { return datagrams_; }
  std::uint64_t restarts() const { return restarts_; }
  std::uint64_t withdrawals() const { return withdrawals_; }

 private:
  struct Exporter {
    std::unique_ptr<decode::FlowEncoder> encoder;
    FlowBatch pending;
    TimeMs oldest{};
    std::size_t pending_cost = 0;  // bytes the pending flows take in a datagram
    int last_family = -1;          // of the last pending flow: 0 IPv4, 1 IPv6
    std::uint64_t next_restart = 0;
    std::uint64_t next_withdraw = 0;
    std::uint32_t ip = 0;
  };
  void flush(unsigned exporter_idx, TimeMs now);
  TimeMs due(std::uint64_t flow) const;

  GenConfig config_;
  FlowModel model_;
  Rng pick_;  // which exporter sees a session
  std::vector<Exporter> exporters_;
  decode::DatagramBuffer buffer_;
  std::vector<GenDatagram> ready_;
  std::uint64_t flows_ = 0;
  std::uint64_t datagrams_ = 0;
  std::uint64_t restarts_ = 0;
  std::uint64_t withdrawals_ = 0;
  bool finished_ = false;
  bool stopping_ = false;
};

}  // namespace flowscope::gen
