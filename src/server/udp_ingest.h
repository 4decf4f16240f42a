#pragma once
// Internal to flowscope_server: other modules use its public headers.
// UdpIngest: the receiving side of `flowscope serve`. For every listen address and flow port
// (NetFlow, IPFIX, sFlow) each of N workers opens its own socket with SO_REUSEPORT, so the
// kernel spreads exporters over the workers by their address hash and one exporter always
// reaches the same worker (its templates and sequence state live in that worker's decoder).
// A worker waits on its sockets with epoll, reads up to 64 datagrams per recvmmsg(2), decodes
// them with its own FlowDecoder and hands full FlowBatches to the pipeline (a FlowSink).
//
// Drops are counted, never silent: kernel socket drops (SO_RXQ_OVFL, per socket), decode errors
// and sequence gaps (the decoder's per-exporter DecodeStats). The sink may make a worker wait
// (back-pressure); the socket buffer then fills and the kernel's drops show it.
//
// Threads: start() and stop() from one control thread; the workers are internal; stats() from
// any thread (it takes each worker's lock briefly, the lock a worker holds per recvmmsg batch).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"
#include "decode/decode_stats.h"
#include "enrich/interface_table.h"
#include "server/server_config.h"

namespace flowscope::server {

// Where receive workers hand their batches. hand_over() takes `batch` (leaving it empty) and may
// wait while the stages behind are full. Called by receive worker `worker` (0..workers-1), from
// its own thread.
class FlowSink {
 public:
  virtual ~FlowSink() = default;
  virtual void hand_over(unsigned worker, FlowBatch& batch) = 0;
};

// One bound address:port and what the kernel dropped on its sockets.
struct SocketStats {
  std::string endpoint;  // "127.0.0.1:2055", "[::]:4739"
  std::uint64_t datagrams = 0;
  std::uint64_t bytes = 0;
  std::uint64_t kernel_drops = 0;  // SO_RXQ_OVFL, summed over the workers' sockets
};

struct ExporterIngest {
  decode::ExporterStats decode;   // per-exporter decoder counters (errors, sequence gaps)
  std::uint64_t queue_drops = 0;  // records dropped because the pipeline was behind (none
                                  // since the pipeline applies back-pressure; kept for metrics)
};

struct IngestStats {
  std::vector<SocketStats> sockets;
  std::map<IpAddress, ExporterIngest> exporters;
  std::uint64_t datagrams = 0;
  std::uint64_t records = 0;
  std::uint64_t kernel_drops = 0;
  std::uint64_t queue_drops = 0;   // records
  std::uint64_t decode_drops = 0;  // datagrams, sets or records the decoders dropped
  std::uint64_t templates = 0;
  unsigned workers = 0;
};

class UdpIngest {
 public:
  // Opens every socket (failing, with the address and the fix, when one cannot be bound; an
  // IPv6 address on a host without IPv6 is skipped with a warning) and starts the workers.
  // Interface names that options data announces go into `interfaces` (may be null).
  static Result<std::unique_ptr<UdpIngest>> start(const IngestConfig& config, FlowSink& sink,
                                                  enrich::InterfaceTable* interfaces = nullptr);
  ~UdpIngest();
  UdpIngest(const UdpIngest&) = delete;
  UdpIngest& operator=(const UdpIngest&) = delete;

  // Stops the workers after their current batch; hands their partial batches to the sink.
  void stop();

  IngestStats stats() const;
  // The ports actually bound (differs from the configuration where it said 0).
  std::uint16_t netflow_port() const { return ports_[0]; }
  std::uint16_t ipfix_port() const { return ports_[1]; }
  std::uint16_t sflow_port() const { return ports_[2]; }

  struct Worker;

 private:
  UdpIngest() = default;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::string> endpoints_;  // per socket index (the same in every worker)
  std::uint16_t ports_[3] = {0, 0, 0};
  std::atomic<bool> stop_{false};
};

}  // namespace flowscope::server
