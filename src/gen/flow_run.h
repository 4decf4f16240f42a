#pragma once
// `flowscope gen flows` as a library (docs/gen.md): the settings as the user gives them,
// checked and resolved into a GenConfig, and the run that draws datagrams from FlowGenerator
// and sends them over UDP paced to the rate (sendmmsg batches), writes them to a pcap, or both.
// With a seed the output is byte for byte the same on every run: the clock it encodes is
// simulated. The caller's thread does the work; progress goes to a callback.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/pcap_writer.h"
#include "core/result.h"
#include "core/udp_sender.h"

#include "gen/flow_generator.h"

namespace flowscope::gen {

// The options of `gen flows`, unchecked.
struct FlowRunSettings {
  std::string format = "v9";
  std::string to;    // HOST:PORT to send to
  std::string pcap;  // file to write
  double rate = 1000;
  std::uint64_t count = 0;
  std::string duration;
  unsigned exporters = 1;
  std::uint32_t sampling = 0;
  std::optional<std::uint64_t> seed;
  std::string start;
  std::uint32_t clients = 10000;
  std::uint32_t servers = 1000;
  double zipf = 1.1;
  std::optional<double> ipv6_share;
  std::size_t mtu = 1400;
  std::uint32_t template_every = 20;
  std::uint64_t restart_every = 0;
  std::uint64_t withdraw_every = 0;
};

// Checks the settings against each other and the formats' limits and resolves defaults (the
// start: --start, else 2026-01-01T00:00:00Z with a seed, else now; the seed: given, else
// random). Errors (InvalidArgument) name the option and its range. `warn` receives warnings
// that do not stop the run (NetFlow v5 and IPv6).
Result<GenConfig> make_gen_config(const FlowRunSettings& settings,
                                  const std::function<void(const std::string&)>& warn);

struct FlowRunProgress {
  std::uint64_t flows = 0;
  std::uint64_t datagrams = 0;
  double seconds = 0;  // since the start of the run
};

struct FlowRunSummary {
  std::uint64_t flows = 0;
  std::uint64_t datagrams = 0;
  std::uint64_t bytes = 0;  // payload bytes
  std::uint64_t restarts = 0;
  double seconds = 0;      // at least 1e-9
  bool cancelled = false;  // `cancel` ended the run early
};

// Runs the generator to its end. `sender` and `pcap` may be null (not both); with `paced`,
// datagrams leave when the simulated clock says they are due. The pcap frames datagrams from
// each exporter's address to the sender's IPv4 destination (else 127.0.0.1 and the format's
// port) and is closed at the end. `progress`, when set, is called about every 500 ms. When
// `cancel` (may be null) becomes true the run stops drawing flows, sends and writes those it
// drew, closes the pcap and says so in the summary (`flowscope gen flows` on Ctrl-C).
Result<FlowRunSummary> run_flows(const GenConfig& config, UdpSender* sender, PcapWriter* pcap,
                                 bool paced,
                                 const std::function<void(const FlowRunProgress&)>& progress,
                                 const std::atomic<bool>* cancel = nullptr);

}  // namespace flowscope::gen
