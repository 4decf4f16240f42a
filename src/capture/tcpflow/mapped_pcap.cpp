#include "capture/tcpflow/mapped_pcap.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include <unistd.h>

namespace flowscope::capture::tcpflow {
namespace {

constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNano = 0xa1b23c4d;
constexpr std::size_t kRecordHeader = 16;
// libpcap refuses records longer than this whatever the snapshot length (its max_snaplen).
constexpr std::uint32_t kMaxSnaplen = 262144;
// Unmap what has been read in steps of this size.
constexpr std::size_t kReleaseStep = 256 << 10;

std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::unique_ptr<MappedPcap> MappedPcap::open(pcap_t* pd) {
  std::FILE* f = pcap_file(pd);
  if (f == nullptr) return nullptr;
  const int fd = ::fileno(f);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  const auto size = static_cast<std::size_t>(st.st_size);
  std::uint8_t header[24];
  if (size < sizeof header || ::pread(fd, header, sizeof header, 0) != sizeof header) {
    return nullptr;
  }
  const std::uint32_t magic = load32(header);
  if (magic != kMagicMicro && magic != kMagicNano) return nullptr;  // pcapng, swapped, other
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) return nullptr;
  ::madvise(map, size, MADV_SEQUENTIAL);
  return std::unique_ptr<MappedPcap>(
      new MappedPcap(pd, static_cast<const std::uint8_t*>(map), size, magic == kMagicNano));
}

MappedPcap::MappedPcap(pcap_t* pd, const std::uint8_t* map, std::size_t size, bool nanoseconds)
    : pd_(pd), map_(map), size_(size), nanoseconds_(nanoseconds) {
  const int snap = pcap_snapshot(pd);
  snapshot_ = snap > 0 ? static_cast<std::uint32_t>(snap) : 0;
}

MappedPcap::~MappedPcap() { ::munmap(const_cast<std::uint8_t*>(map_), size_); }

MappedPcap::Next MappedPcap::hand_over() {
  // libpcap reads on from its stream: put it at the record it is to read.
  std::FILE* f = pcap_file(pd_);
  if (f == nullptr || std::fseek(f, static_cast<long>(pos_), SEEK_SET) != 0) return Next::End;
  pos_ = size_;
  return Next::Libpcap;
}

MappedPcap::Next MappedPcap::next(pcap_pkthdr& hdr, const std::uint8_t*& bytes) {
  if (pos_ - released_ >= 2 * kReleaseStep) {
    // Whole pages well behind the current record are not needed again.
    const std::size_t upto = (pos_ - kReleaseStep) & ~static_cast<std::size_t>(4095);
    ::madvise(const_cast<std::uint8_t*>(map_) + released_, upto - released_, MADV_DONTNEED);
    released_ = upto;
  }
  if (pos_ == size_) return Next::End;
  if (size_ - pos_ < kRecordHeader) return hand_over();  // libpcap reports the truncation
  const std::uint8_t* rec = map_ + pos_;
  const std::uint32_t caplen = load32(rec + 8);
  // Records libpcap would change or refuse (longer than the snapshot, or truncated): its call.
  if (caplen > snapshot_ || caplen > kMaxSnaplen || size_ - pos_ - kRecordHeader < caplen) {
    return hand_over();
  }
  // As libpcap: the file's fields are signed 32-bit (out-of-range microseconds pass through).
  hdr.ts.tv_sec = static_cast<time_t>(static_cast<std::int32_t>(load32(rec)));
  const auto frac = static_cast<std::int32_t>(load32(rec + 4));
  hdr.ts.tv_usec = static_cast<suseconds_t>(nanoseconds_ ? frac / 1000 : frac);
  hdr.caplen = caplen;
  hdr.len = load32(rec + 12);
  bytes = rec + kRecordHeader;
  pos_ += kRecordHeader + caplen;
  return Next::Packet;
}

}  // namespace flowscope::capture::tcpflow
