#include "capture/pcap_source.h"

#include <pcap/pcap.h>

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

Result<PcapSource> PcapSource::open(const std::string& path) {
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
                                         bool promiscuous, int timeout_ms) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(interface.c_str(), errbuf);
  if (p == nullptr) return Error{ErrorCode::Io, "interface " + interface + ": " + errbuf};
  std::unique_ptr<pcap, Closer> handle(p);
  pcap_set_snaplen(p, snap_length);
  pcap_set_promisc(p, promiscuous ? 1 : 0);
  pcap_set_timeout(p, timeout_ms);
  (void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // else microseconds
  const int rc = pcap_activate(p);
  if (rc < 0) {
    std::string reason = rc == PCAP_ERROR_PERM_DENIED
                             ? "permission denied (run as root or grant CAP_NET_RAW)"
                             : std::string(pcap_geterr(p));
    return Error{ErrorCode::Io, "interface " + interface + ": cannot capture: " + reason};
  }
  LinkType link = link_from_dlt(pcap_datalink(p));
  PcapSource source(std::move(handle), link, interface);
  source.live_ = true;
  source.nano_ = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  return source;
}

Result<void> PcapSource::set_filter(const std::string& expression) {
  bpf_program program{};
  if (pcap_compile(handle_.get(), &program, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return Error{ErrorCode::Malformed, "filter \"" + expression + "\": " +
                                           pcap_geterr(handle_.get()) + " (see pcap-filter(7))"};
  }
  const int rc = pcap_setfilter(handle_.get(), &program);
  pcap_freecode(&program);
  if (rc != 0) {
    return Error{ErrorCode::Io, "filter \"" + expression + "\": " + pcap_geterr(handle_.get())};
  }
  return {};
}

std::uint64_t PcapSource::kernel_drops() const {
  if (!live_) return 0;
  pcap_stat st{};
  if (pcap_stats(handle_.get(), &st) != 0) return 0;
  return st.ps_drop + st.ps_ifdrop;
}

Result<std::optional<CapturedPacket>> PcapSource::next() {
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(handle_.get(), &header, &data);
  if (rc == PCAP_ERROR_BREAK) return std::optional<CapturedPacket>();
  if (rc == 0 && live_) return std::optional<CapturedPacket>(CapturedPacket{});  // timeout
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
