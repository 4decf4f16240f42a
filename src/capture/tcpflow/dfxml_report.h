#pragma once
// The DFXML report of `flowscope tcpflow` (report.xml, or -X FILE), laid out as tcpflow 1.6.1
// writes it: a creator block (our program, version, command line, start time), the
// configuration, one <fileobject> per flow as it ends (filename, filesize, a <tcpflow .../>
// element with startime, endtime, mac_daddr, mac_saddr, family, src_ipn, dst_ipn, srcport,
// dstport, packets, out_of_order_count, violations, len, caplen, then scanner output: MD5
// hashdigest and HTTP byte_runs), a summary and rusage. finish() closes every element, so the
// document is well-formed whenever the run ends, including on SIGINT/SIGTERM (the runner stops
// at the next packet and finishes).
//
// Not thread-safe; owned by the runner.
// Internal to flowscope_tcpflow: other modules use its public headers.

#include <cstdint>
#include <cstdio>
#include <string>

#include "capture/tcp_reassembler.h"
#include "core/result.h"
#include "core/xml_escape.h"

namespace flowscope::capture::tcpflow {

class DfxmlReport {
 public:
  // `result_namespace`: declare the tcpflow: prefix on the root (the python scanner's
  // <tcpflow:result> elements use it; tcpflow leaves it unbound, which namespace-aware parsers
  // reject).
  // `tdelta`: the -S tdelta setting, recorded in <tdelta> as tcpflow does.
  static Result<DfxmlReport> open(const std::string& path, const std::string& command_line,
                                  bool result_namespace = false, std::int64_t tdelta = 0);
  DfxmlReport(DfxmlReport&& other) noexcept;
  DfxmlReport& operator=(DfxmlReport&&) = delete;
  DfxmlReport(const DfxmlReport&) = delete;
  ~DfxmlReport();

  // `filename` empty when the flow stored no byte; `extra` is scanner XML (may be empty).
  void add_flow(const TcpStream& s, const std::string& filename, const std::string& extra);

  struct Summary {
    std::uint64_t open_fds_at_end = 0;
    std::uint64_t max_open_flows = 0;
    std::uint64_t total_flows = 0;
    std::uint64_t flow_map_size = 0;
    std::uint64_t total_packets = 0;
  };
  void finish(const Summary& summary);

 private:
  explicit DfxmlReport(std::FILE* f) : file_(f) {}
  std::FILE* file_ = nullptr;
  double start_clock_ = 0;
};

// Time as tcpflow's to8601: 2008-10-06T17:54:54.796605Z.
std::string iso8601_us(PcapTime t);
// Text form of an address: dotted quad or RFC 5952 IPv6 (inet_ntop).
std::string address_text(const std::array<std::uint8_t, 16>& addr, std::uint8_t family);
// XML escaping is core/xml_escape.h's xml_escape (&apos; for ', as tcpflow writes it).

}  // namespace flowscope::capture::tcpflow
