#pragma once
// PcapSource: packets from a pcap or pcapng file (or "-" for standard input) through libpcap.
// The packet bytes returned by next() are borrowed from libpcap and valid until the next call.
// Not thread-safe; one reader per file.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/packet_parser.h"
#include "core/result.h"
#include "core/time.h"

struct pcap;

namespace flowscope::capture {

struct CapturedPacket {
  TimeMs timestamp{};
  std::span<const std::byte> data;  // the captured bytes (may be shorter than on the wire)
  std::size_t wire_length = 0;
};

class PcapSource {
 public:
  // Opens a capture file, or standard input for "-". Errors name the file and the reason.
  static Result<PcapSource> open(const std::string& path);

  PcapSource(PcapSource&&) noexcept = default;
  PcapSource& operator=(PcapSource&&) noexcept = default;
  ~PcapSource();

  // The next packet; nullopt at the end of the file. A file cut short ends with an Error
  // (Truncated) after the packets that were complete.
  Result<std::optional<CapturedPacket>> next();

  // The file's link type; a link type we do not parse is reported by parse_link().
  LinkType link_type() const { return link_; }

 private:
  struct Closer {
    void operator()(pcap* p) const;
  };
  explicit PcapSource(std::unique_ptr<pcap, Closer> handle, LinkType link, std::string path)
      : handle_(std::move(handle)), link_(link), path_(std::move(path)) {}

  std::unique_ptr<pcap, Closer> handle_;
  LinkType link_ = LinkType::Ethernet;
  std::string path_;
};

}  // namespace flowscope::capture
