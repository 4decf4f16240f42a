#include "capture/pcap_source.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>

#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <unistd.h>

namespace flowscope::capture {
namespace {

// libpcap reports DLT_ values, which differ from LINKTYPE_ values for raw IP on some systems.
LinkType link_from_dlt(int dlt) {
  switch (dlt) {
    case DLT_NULL: return LinkType::Null;
    case DLT_EN10MB: return LinkType::Ethernet;
#ifdef DLT_LOOP
    case DLT_LOOP: return LinkType::Loop;
#endif
    case DLT_LINUX_SLL: return LinkType::LinuxSll;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2: return LinkType::LinuxSll2;
#endif
#ifdef DLT_IPV4
    case DLT_IPV4: return LinkType::Ipv4;
#endif
#ifdef DLT_IPV6
    case DLT_IPV6: return LinkType::Ipv6;
#endif
    default:
      // DLT_RAW is 12 or 14 depending on the platform; LINKTYPE_RAW is 101.
      if (dlt == DLT_RAW || dlt == 12 || dlt == 14 || dlt == 101) return LinkType::Raw;
      return static_cast<LinkType>(dlt);
  }
}

}  // namespace

void PcapSource::Closer::operator()(pcap* p) const {
  if (p != nullptr) pcap_close(p);
}

PcapSource::~PcapSource() = default;

PcapSource::Mapping::~Mapping() {
  if (data != nullptr) ::munmap(const_cast<std::byte*>(data), size);
}

void PcapSource::FilterFree::operator()(bpf_program* p) const {
  pcap_freecode(p);
  delete p;
}

namespace {

constexpr std::uint32_t kMagicMicro = 0xA1B2C3D4;
constexpr std::uint32_t kMagicNano = 0xA1B23C4D;

std::uint32_t load32(const std::byte* p, bool swapped) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return swapped ? __builtin_bswap32(v) : v;
}

}  // namespace

// Classic pcap (https://www.tcpdump.org/manpages/pcap-savefile.5.html): a 24-byte header, then
// records of a 16-byte header (seconds, micro- or nanoseconds, captured and original length)
// and the bytes. nullopt when the file is not one (pcapng, a pipe): libpcap reads it instead.
Result<std::optional<PcapSource>> PcapSource::open_mapped(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::optional<PcapSource>();
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) {
    ::close(fd);
    return std::optional<PcapSource>();
  }
  void* addr = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (addr == MAP_FAILED) return std::optional<PcapSource>();
  auto mapping = std::make_unique<Mapping>();
  mapping->data = static_cast<const std::byte*>(addr);
  mapping->size = static_cast<std::size_t>(st.st_size);
  ::madvise(addr, mapping->size, MADV_SEQUENTIAL);
  const std::uint32_t magic = load32(mapping->data, false);
  bool swapped;
  bool nano;
  if (magic == kMagicMicro || magic == kMagicNano) {
    swapped = false;
    nano = magic == kMagicNano;
  } else if (magic == __builtin_bswap32(kMagicMicro) || magic == __builtin_bswap32(kMagicNano)) {
    swapped = true;
    nano = magic == __builtin_bswap32(kMagicNano);
  } else {
    return std::optional<PcapSource>();  // pcapng or not a capture: libpcap says which
  }
  // The link type's low 28 bits (the upper ones carry FCS information).
  const std::uint32_t linktype = load32(mapping->data + 20, swapped) & 0x0FFFFFFF;
  const std::uint32_t snaplen = load32(mapping->data + 16, swapped);
  // A dead handle compiles BPF filters for this link type (DLT_RAW differs from LINKTYPE_RAW).
  const int dlt = linktype == 101 ? DLT_RAW : static_cast<int>(linktype);
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(
      dlt, snaplen == 0 ? 262144 : static_cast<int>(std::min<std::uint32_t>(snaplen, 1u << 30)),
      PCAP_TSTAMP_PRECISION_NANO);
  if (dead == nullptr) return std::optional<PcapSource>();
  PcapSource source(std::unique_ptr<pcap, Closer>(dead), link_from_dlt(dlt), path);
  source.mapping_ = std::move(mapping);
  source.offset_ = 24;
  source.swapped_ = swapped;
  source.nano_ = nano;
  return std::optional<PcapSource>(std::move(source));
}

Result<std::optional<CapturedPacket>> PcapSource::next_mapped() {
  const std::byte* base = mapping_->data;
  const std::size_t size = mapping_->size;
  for (;;) {
    if (offset_ == size) return std::optional<CapturedPacket>();
    if (size - offset_ < 16) {
      return Error{ErrorCode::Truncated, path_ + ": record header cut short at byte " +
                                             std::to_string(offset_) + " (file cut short?)"};
    }
    const std::byte* h = base + offset_;
    const std::uint32_t sec = load32(h, swapped_);
    const std::uint32_t sub = load32(h + 4, swapped_);
    const std::uint32_t caplen = load32(h + 8, swapped_);
    const std::uint32_t len = load32(h + 12, swapped_);
    if (caplen > size - offset_ - 16) {
      return Error{ErrorCode::Truncated, path_ + ": packet at byte " + std::to_string(offset_) +
                                             " is cut short (file cut short?)"};
    }
    const std::byte* data = h + 16;
    offset_ += 16 + std::size_t{caplen};
    if (filter_) {
      pcap_pkthdr hdr{};
      hdr.ts.tv_sec = sec;
      hdr.ts.tv_usec = sub;
      hdr.caplen = caplen;
      hdr.len = len;
      if (pcap_offline_filter(filter_.get(), &hdr, reinterpret_cast<const u_char*>(data)) == 0) {
        continue;
      }
    }
    CapturedPacket pkt;
    const std::int64_t ns = nano_ ? std::int64_t{sub} : std::int64_t{sub} * 1000;
    pkt.timestamp_ns = std::int64_t{sec} * 1'000'000'000 + ns;
    pkt.timestamp = time_from_ms(std::int64_t{sec} * 1000 + ns / 1'000'000);
    pkt.data = std::span<const std::byte>(data, caplen);
    pkt.wire_length = len;
    return std::optional<CapturedPacket>(pkt);
  }
}

Result<PcapSource> PcapSource::open(const std::string& path) {
  if (path != "-") {
    auto mapped = open_mapped(path);
    if (!mapped) return std::move(mapped).error();
    if (mapped->has_value()) return std::move(**mapped);
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) {
    return Error{ErrorCode::Io, path + ": cannot read as pcap/pcapng: " + errbuf};
  }
  std::unique_ptr<pcap, Closer> handle(p);
  LinkType link = link_from_dlt(pcap_datalink(p));
  return PcapSource(std::move(handle), link, path);
}

Result<PcapSource> PcapSource::open_live(const std::string& interface, int snap_length,
                                         bool promiscuous, int timeout_ms, int buffer_bytes) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(interface.c_str(), errbuf);
  if (p == nullptr) return Error{ErrorCode::Io, "interface " + interface + ": " + errbuf};
  std::unique_ptr<pcap, Closer> handle(p);
  pcap_set_snaplen(p, snap_length);
  pcap_set_promisc(p, promiscuous ? 1 : 0);
  pcap_set_timeout(p, timeout_ms);
  if (buffer_bytes > 0) pcap_set_buffer_size(p, buffer_bytes);
  // Packets as they arrive rather than when a kernel buffer block fills: a probe's sessions
  // and timers should not lag its link by up to a block, and a stop should lose nothing.
  pcap_set_immediate_mode(p, 1);
  (void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // else microseconds
  const int rc = pcap_activate(p);
  if (rc < 0) {
    std::string reason = rc == PCAP_ERROR_PERM_DENIED
                             ? "permission denied (run as root or grant CAP_NET_RAW)"
                             : std::string(pcap_geterr(p));
    return Error{ErrorCode::Io, "interface " + interface + ": cannot capture: " + reason};
  }
  // Non-blocking reads and our own poll(): in immediate mode libpcap's timeout does not run,
  // and a poll() returns on a signal (SIGTERM ends a probe) where a blocking read would not.
  if (pcap_setnonblock(p, 1, errbuf) != 0 || pcap_get_selectable_fd(p) < 0) {
    return Error{ErrorCode::Io, "interface " + interface + ": cannot poll the capture: " + errbuf};
  }
  LinkType link = link_from_dlt(pcap_datalink(p));
  PcapSource source(std::move(handle), link, interface);
  source.live_ = true;
  source.timeout_ms_ = timeout_ms;
  source.nano_ = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  return source;
}

Result<void> PcapSource::set_filter(const std::string& expression) {
  bpf_program program{};
  if (pcap_compile(handle_.get(), &program, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return Error{ErrorCode::Malformed, "filter \"" + expression + "\": " +
                                           pcap_geterr(handle_.get()) + " (see pcap-filter(7))"};
  }
  filter_.reset(new bpf_program(program));  // mapped files: next_mapped() runs it
  if (mapping_) return {};
  // libpcap copies the program; ours stays for matches().
  const int rc = pcap_setfilter(handle_.get(), filter_.get());
  if (rc != 0) {
    return Error{ErrorCode::Io, "filter \"" + expression + "\": " + pcap_geterr(handle_.get())};
  }
  return {};
}

bool PcapSource::matches(const CapturedPacket& packet) const {
  if (!filter_) return true;
  pcap_pkthdr hdr{};
  hdr.caplen = static_cast<bpf_u_int32>(packet.data.size());
  hdr.len = static_cast<bpf_u_int32>(packet.wire_length);
  return pcap_offline_filter(filter_.get(), &hdr,
                             reinterpret_cast<const u_char*>(packet.data.data())) != 0;
}

std::uint64_t PcapSource::kernel_drops() const {
  if (!live_) return 0;
  pcap_stat st{};
  if (pcap_stats(handle_.get(), &st) != 0) return 0;
  return st.ps_drop + st.ps_ifdrop;
}

Result<std::optional<CapturedPacket>> PcapSource::next() {
  if (mapping_) return next_mapped();
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(handle_.get(), &header, &data);
  if (rc == 0 && live_) {
    // Nothing buffered: wait for the interface, a timeout, or a signal.
    pollfd fd{pcap_get_selectable_fd(handle_.get()), POLLIN, 0};
    if (::poll(&fd, 1, timeout_ms_) > 0) rc = pcap_next_ex(handle_.get(), &header, &data);
    if (rc == 0) return std::optional<CapturedPacket>(CapturedPacket{});  // timeout
  }
  if (rc == PCAP_ERROR_BREAK) return std::optional<CapturedPacket>();
  if (rc != 1) {
    return Error{ErrorCode::Truncated,
                 path_ + ": " + pcap_geterr(handle_.get()) + " (file cut short?)"};
  }
  CapturedPacket pkt;
  // tv_usec holds nanoseconds: files are opened at nano precision, and live handles at nano
  // when the platform allows it.
  const std::int64_t sub = header->ts.tv_usec;
  const std::int64_t ns = nano_ ? sub : sub * 1000;
  pkt.timestamp_ns = std::int64_t{header->ts.tv_sec} * 1'000'000'000 + ns;
  pkt.timestamp = time_from_ms(std::int64_t{header->ts.tv_sec} * 1000 + ns / 1'000'000);
  pkt.data = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), header->caplen);
  pkt.wire_length = header->len;
  return std::optional<CapturedPacket>(pkt);
}

}  // namespace flowscope::capture
