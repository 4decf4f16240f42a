#pragma once
// Writes export datagrams as a classic pcap file (microsecond timestamps, link type Ethernet),
// each framed as Ethernet / IPv4 / UDP, so that `flowscope decode`, tshark and nfdump's
// tools read what `gen flows` and the probe's exporter (`capture --export-pcap`) sent. Written
// by hand (global header, then a record header and frame per datagram): the format is 40 lines
// and needs no pcap handle. Timestamps are the caller's (the generator's simulated times, so
// its file depends only on the seed and options).
// One writer per file, used from one thread.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"
#include "core/time.h"

namespace flowscope {

struct UdpEndpoints {
  std::uint32_t src_ip = 0;  // IPv4, host order
  std::uint16_t src_port = 0;
  std::uint32_t dst_ip = 0;
  std::uint16_t dst_port = 0;
};

class PcapWriter {
 public:
  // Creates or truncates `path`; "-" is standard output.
  static Result<PcapWriter> open(const std::string& path);

  Result<void> write(std::span<const std::byte> payload, TimeMs time, const UdpEndpoints& udp);
  // Flushes and closes; reports a write error that buffering hid.
  Result<void> close();

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  PcapWriter(std::unique_ptr<std::FILE, FileCloser> file, std::string path)
      : file_(std::move(file)), path_(std::move(path)) {}

  std::unique_ptr<std::FILE, FileCloser> file_;
  std::string path_;
  std::vector<std::byte> frame_;
};

}  // namespace flowscope
