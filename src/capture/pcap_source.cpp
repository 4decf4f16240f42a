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
  pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
  if (p == nullptr) {
    return Error{ErrorCode::Io, path + ": cannot read as pcap/pcapng: " + errbuf};
  }
  std::unique_ptr<pcap, Closer> handle(p);
  LinkType link = link_from_dlt(pcap_datalink(p));
  return PcapSource(std::move(handle), link, path);
}

Result<std::optional<CapturedPacket>> PcapSource::next() {
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(handle_.get(), &header, &data);
  if (rc == PCAP_ERROR_BREAK) return std::optional<CapturedPacket>();
  if (rc != 1) {
    return Error{ErrorCode::Truncated,
                 path_ + ": " + pcap_geterr(handle_.get()) + " (file cut short?)"};
  }
  CapturedPacket pkt;
  pkt.timestamp = time_from_ms(std::int64_t{header->ts.tv_sec} * 1000 + header->ts.tv_usec / 1000);
  pkt.data = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), header->caplen);
  pkt.wire_length = header->len;
  return std::optional<CapturedPacket>(pkt);
}

}  // namespace flowscope::capture
