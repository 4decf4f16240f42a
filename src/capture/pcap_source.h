#pragma once
// PcapSource: packets from a pcap or pcapng file (or "-" for standard input), or from a live
// interface, through libpcap, optionally through a BPF filter. Files are opened at nanosecond
// timestamp precision (libpcap scales microsecond files). Classic pcap files (not pcapng, not
// standard input) are memory-mapped and their records read in place, with libpcap compiling
// and running the BPF filter: no copy per packet, the probe's fast path. The packet bytes
// returned by next() are borrowed (from libpcap or the mapping) and valid until the next call.
// Not thread-safe; one reader per file or interface.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/packet_parser.h"
#include "core/result.h"
#include "core/time.h"

struct pcap;
struct bpf_program;

namespace flowscope::capture {

struct CapturedPacket {
  TimeMs timestamp{};
  std::int64_t timestamp_ns = 0;    // the same instant at the capture's full precision
  std::span<const std::byte> data;  // the captured bytes (may be shorter than on the wire)
  std::size_t wire_length = 0;
};

class PcapSource {
 public:
  // Opens a capture file, or standard input for "-". Errors name the file and the reason.
  static Result<PcapSource> open(const std::string& path);
  // Opens a network interface for live capture (needs CAP_NET_RAW). `timeout_ms` bounds how long
  // next() waits for a packet, so that callers can run timers on a quiet link. `buffer_bytes` is
  // the kernel ring's size: libpcap's own default (2 MiB) holds only a handful of frames at a
  // 256 KiB snap length (loopback's MTU is 64 KiB), so a burst is dropped before we read it.
  static constexpr int kDefaultBufferBytes = 64 << 20;
  static Result<PcapSource> open_live(const std::string& interface, int snap_length = 262144,
                                      bool promiscuous = true, int timeout_ms = 500,
                                      int buffer_bytes = kDefaultBufferBytes);

  // Keeps only the packets that match a BPF expression (pcap-filter(7)); errors name the
  // expression and libpcap's reason.
  Result<void> set_filter(const std::string& expression);
  // Whether a packet passes the filter set last (true without one): for a packet read before
  // the filter changed.
  bool matches(const CapturedPacket& packet) const;

  PcapSource(PcapSource&&) noexcept = default;
  PcapSource& operator=(PcapSource&&) noexcept = default;
  ~PcapSource();

  // The next packet; nullopt at the end of the file. A file cut short ends with an Error
  // (Truncated) after the packets that were complete. Live: a packet, or a CapturedPacket with
  // empty data when the read timeout passed without one (nullopt only after break_loop()).
  Result<std::optional<CapturedPacket>> next();

  // The file's link type; a link type we do not parse is reported by parse_link().
  LinkType link_type() const { return link_; }
  bool live() const { return live_; }
  // Packets the kernel dropped (live capture), from pcap_stats; 0 for files.
  std::uint64_t kernel_drops() const;
  // Live: how long next() waits for the interface before it returns an empty packet; 0 = not at
  // all (after a stop signal, to meter what the kernel already captured, then end).
  void set_wait(int timeout_ms) { timeout_ms_ = timeout_ms; }

 private:
  struct Closer {
    void operator()(pcap* p) const;
  };
  struct Mapping {  // a classic pcap file mapped read-only
    const std::byte* data = nullptr;
    std::size_t size = 0;
    ~Mapping();
  };
  struct FilterFree {
    void operator()(bpf_program* p) const;
  };
  static Result<std::optional<PcapSource>> open_mapped(const std::string& path);
  Result<std::optional<CapturedPacket>> next_mapped();
  explicit PcapSource(std::unique_ptr<pcap, Closer> handle, LinkType link, std::string path)
      : handle_(std::move(handle)), link_(link), path_(std::move(path)) {}

  std::unique_ptr<pcap, Closer> handle_;
  LinkType link_ = LinkType::Ethernet;
  std::string path_;
  bool live_ = false;
  int timeout_ms_ = 500;  // live: how long next() waits before it returns an empty packet
  bool nano_ = true;      // timestamps' sub-second part is in nanoseconds (else microseconds)
  std::unique_ptr<Mapping> mapping_;                 // set for a mapped classic pcap file
  std::size_t offset_ = 0;                           // next record in the mapping
  bool swapped_ = false;                             // the file's byte order is not ours
  std::unique_ptr<bpf_program, FilterFree> filter_;  // the compiled filter set last
};

}  // namespace flowscope::capture
