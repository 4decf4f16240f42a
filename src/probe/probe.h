#pragma once
// The probe: reads packets (pcap files or a live interface, capture/pcap_source.h), meters them
// into two-way sessions (capture/flow_meter.h) and hands the sessions, a batch at a time, to a
// sink (the cli writes them with query/output.h) and to the session exporter (NetFlow v5, v9 or
// IPFIX, probe/session_exporter.h). It applies a configuration file's scheduled settings at
// their time and re-reads the file when it changes (probe/settings_schedule.h); after a stop
// signal a live probe still meters what the kernel had captured, for at most a second, before it
// flushes the open sessions. The run ends with a summary of what was counted (docs/capture.md).
//
// Errors come back as Result: ErrorCode::InvalidArgument when a setting is not valid (a filter,
// a scheduled timeout, a pattern that matches no file), other codes when an input, the interface,
// the sink or the export failed. A read error in the middle of an input is not one of them: the
// run stops there, flushes what it metered and reports it in ProbeSummary::read_error.
// One run per thread; stop_on_signals() is process-wide.

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/flow_meter.h"
#include "capture/pcap_source.h"
#include "capture/probe_config.h"
#include "core/record_batch.h"
#include "core/result.h"
#include "probe/session_exporter.h"

namespace flowscope::probe {

// Set (to non-zero) from a signal handler or another thread: the run ends.
using StopFlag = volatile std::sig_atomic_t;

// Installs SIGINT and SIGTERM handlers that set the process's one stop flag, and returns it.
StopFlag* stop_on_signals();

struct ProbeOptions {
  std::vector<std::string> files;  // pcap or pcapng files ("-": standard input), or
  std::string interface;           // a live interface; exactly one of the two
  std::string filter;              // BPF (pcap-filter(7)); empty: every packet
  capture::MeterConfig meter;
  std::optional<ExportOptions> exporter;  // export the sessions as flows
  std::uint64_t count = 0;                // stop after this many packets per input (0: no limit)
  double duration = 0;  // live: stop after this many seconds of traffic (0: no limit)
  int snap_length = 262144;
  int buffer_bytes = capture::PcapSource::kDefaultBufferBytes;
  // The configuration file (for hot reload; empty: none), its name for messages and its
  // [[scheduled]] blocks.
  std::string config_path;
  std::string config_name;
  std::vector<capture::ScheduledSettings> scheduled;
  std::size_t flush_rows = 4096;  // sessions handed on per batch (the last batch may be shorter)
  StopFlag* stop = nullptr;
  // Progress ("capture: listening on eth0", scheduled settings taking effect); may be empty.
  std::function<void(const std::string&)> on_note;
  // A problem the run survives (a scheduled filter that does not compile, a changed
  // configuration that does not load); may be empty.
  std::function<void(const std::string&)> on_warning;
};

struct ExportSummary {
  std::uint64_t flows = 0;
  std::uint64_t datagrams = 0;
  std::uint64_t skipped = 0;  // IPv6 flows in v5
  std::string destination;    // "HOST:PORT", or "-" with only a pcap file
};

struct ProbeSummary {
  capture::MeterStats meter;
  std::size_t inputs = 0;
  std::uint64_t kernel_drops = 0;
  std::uint64_t sessions_handed_on = 0;  // rows given to the sink
  std::optional<ExportSummary> exported;
  bool has_config = false;
  std::string config_name;
  std::uint64_t scheduled_applied = 0;
  std::size_t scheduled_pending = 0;
  std::string read_error;  // set when an input failed mid-read; the run ended there
};

// Receives each batch of sessions; an error ends the run.
using SessionSink = std::function<Result<void>(const SessionBatch&)>;

// Runs the probe to the end of the inputs (or the count, duration or a stop). `sink` may be
// empty (export only).
Result<ProbeSummary> run_probe(const ProbeOptions& options, const SessionSink& sink);

// The summary as `flowscope capture` prints it on standard error: packets, malformed packets by
// kind, sessions by end reason, the export and the scheduled settings; lines end with '\n'.
std::string summary_text(const ProbeSummary& summary);
// The same summary as one JSON object (`capture --json`), with whether a stop signal ended
// reading files early (`interrupted`).
std::string summary_json(const ProbeSummary& summary, bool interrupted);

// Expands the glob patterns among `args` (a name without *?[ or "-" stays as given).
// InvalidArgument when a pattern matches no file.
Result<std::vector<std::string>> expand_inputs(const std::vector<std::string>& args);

// Seconds as ns; InvalidArgument naming `what` unless 0 < seconds <= 1e9.
Result<capture::TimeNs> seconds_to_ns(double seconds, std::string_view what);

}  // namespace flowscope::probe
