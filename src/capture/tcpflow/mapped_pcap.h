#pragma once
// Internal to flowscope_tcpflow: other modules use its public headers.
// Reads the packets of a classic pcap file (-r/-R) straight from a read-only memory map, where
// libpcap would copy every byte twice (read() into its stdio buffer, then into its packet buffer):
// on a capture of a few hundred MB those copies are a fifth of the run's system time
// (docs/tcpflow.md "Performance"). Only the simple case is taken: a regular file in host byte
// order, microsecond or nanosecond timestamps, whose records libpcap would return unchanged.
// Anything else (pcapng, swapped files, stdin, a record longer than the snapshot length, a
// truncated record) is left to libpcap: next() says so, with the stream positioned at that
// record, and the caller goes on with pcap_next_ex, which gives libpcap's own answers and
// messages. Pages already read are unmapped as it goes, so they do not count in the RSS.
//
// Not thread-safe; one per open capture, on the runner's thread.

#include <cstddef>
#include <cstdint>
#include <memory>

#include <pcap/pcap.h>

namespace flowscope::capture::tcpflow {

class MappedPcap {
 public:
  // Null when the capture is not one this reader takes (libpcap then reads it all).
  static std::unique_ptr<MappedPcap> open(pcap_t* pd);
  ~MappedPcap();
  MappedPcap(const MappedPcap&) = delete;
  MappedPcap& operator=(const MappedPcap&) = delete;

  enum class Next { Packet, End, Libpcap };
  // Packet: `hdr` and `bytes` (valid until the next call) hold the next record. End: no more
  // records. Libpcap: the rest is libpcap's (its stream now points at the record in question).
  Next next(pcap_pkthdr& hdr, const std::uint8_t*& bytes);

 private:
  MappedPcap(pcap_t* pd, const std::uint8_t* map, std::size_t size, bool nanoseconds);
  Next hand_over();

  pcap_t* pd_;
  const std::uint8_t* map_;
  std::size_t size_;
  bool nanoseconds_;
  std::size_t pos_ = 24;      // after the file header
  std::size_t released_ = 0;  // bytes before this are unmapped
  std::uint32_t snapshot_ = 0;
};

}  // namespace flowscope::capture::tcpflow
