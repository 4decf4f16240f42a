#pragma once
// tcpflow's -K: instead of reassembling, every TCP packet is appended, as it was captured, to a
// pcap file of its own direction of its 4-tuple, named by the filename template (connection
// counter 0, stream number 0, time of the direction's first packet) plus ".pcap". As in tcpflow
// 1.6.1 a 4-tuple seen again keeps its file, a file left by an earlier run is overwritten, and
// the header's link type is the one tcpflow's datalink handler records (6 for Ethernet, 0 null,
// 12 raw IP, 9 PPP, 113 Linux SLL) with snap length 65535. tcpflow keeps every file open;
// we keep at most `max_fds` open (least recently written closed first, reopened to append).
//
// Not thread-safe; owned by the runner.
// Internal to flowscope_tcpflow: other modules use its public headers.

#include <cstdint>
#include <cstdio>
#include <list>
#include <span>
#include <string>
#include <unordered_map>

#include "capture/tcp_reassembler.h"

namespace flowscope::capture::tcpflow {

class FlowPcapWriter {
 public:
  // `prefix`: the output directory followed by '/', or "".
  FlowPcapWriter(std::string prefix, std::string filename_template, std::size_t max_fds);
  ~FlowPcapWriter();
  FlowPcapWriter(const FlowPcapWriter&) = delete;
  FlowPcapWriter& operator=(const FlowPcapWriter&) = delete;

  // `packet` is the decoded segment (its key, VLAN, MACs and tdelta-shifted time name the
  // file); `raw_ts` the pcap header's own time, written unchanged. False when the file cannot
  // be written (the error is in last_error()).
  bool write(int dlt, const TcpPacket& packet, PcapTime raw_ts, std::uint32_t wire_length,
             std::span<const std::uint8_t> frame);
  const std::string& last_error() const { return error_; }
  std::size_t files() const { return flows_.size(); }

 private:
  struct Flow {
    std::string path;
    std::FILE* file = nullptr;
    std::list<Flow*>::iterator lru;
  };
  bool open(Flow& f, bool create, int dlt);
  void close(Flow& f);

  std::string prefix_;
  std::string template_;
  std::size_t max_fds_;
  std::unordered_map<TcpFlowKey, Flow, TcpFlowKeyHash> flows_;
  std::list<Flow*> open_;  // least recently written first
  std::string error_;
};

// The link type tcpflow 1.6.1 writes in -K files for an input link type.
int tcpflow_record_dlt(int input_dlt);

}  // namespace flowscope::capture::tcpflow
