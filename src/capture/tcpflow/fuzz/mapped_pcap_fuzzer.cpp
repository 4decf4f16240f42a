// libFuzzer target: MappedPcap against libpcap on the same bytes. The input is a whole capture
// file (held in a memfd, a regular file); every record the map returns must be the record
// libpcap returns (time, lengths, bytes), the map must end where libpcap ends, and where it
// hands over, libpcap must go on from that record as if it had read everything itself.
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include "capture/tcpflow/mapped_pcap.h"

namespace {

pcap_t* open_copy(int memfd) {
  const std::string path = "/proc/self/fd/" + std::to_string(memfd);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return nullptr;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pd = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (pd == nullptr) std::fclose(f);
  return pd;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using flowscope::capture::tcpflow::MappedPcap;
  const int memfd = ::memfd_create("mapped_pcap_fuzz", 0);
  if (memfd < 0) return 0;
  if (size > 0 && ::write(memfd, data, size) != static_cast<ssize_t>(size)) {
    ::close(memfd);
    return 0;
  }
  pcap_t* ours = open_copy(memfd);
  pcap_t* theirs = open_copy(memfd);
  if (ours != nullptr && theirs != nullptr) {
    auto mapped = MappedPcap::open(ours);
    pcap_pkthdr* want = nullptr;
    const u_char* want_data = nullptr;
    bool ended = false;  // the map read to the end (the runner then never asks libpcap)
    if (mapped) {
      for (;;) {
        pcap_pkthdr hdr{};
        const std::uint8_t* bytes = nullptr;
        const MappedPcap::Next next = mapped->next(hdr, bytes);
        if (next == MappedPcap::Next::Libpcap) break;
        const int rc = pcap_next_ex(theirs, &want, &want_data);
        if (next == MappedPcap::Next::End) {
          check(rc == PCAP_ERROR_BREAK);
          ended = true;
          break;
        }
        check(rc == 1);
        check(hdr.ts.tv_sec == want->ts.tv_sec && hdr.ts.tv_usec == want->ts.tv_usec);
        check(hdr.caplen == want->caplen && hdr.len == want->len);
        check(std::memcmp(bytes, want_data, hdr.caplen) == 0);
      }
    }
    // What is left (all of it without a map): both read on through libpcap alike.
    pcap_pkthdr* got = nullptr;
    const u_char* got_data = nullptr;
    for (int i = 0; !ended && i < 100000; ++i) {
      const int a = pcap_next_ex(ours, &got, &got_data);
      const int b = pcap_next_ex(theirs, &want, &want_data);
      check(a == b);
      if (a != 1) break;
      check(got->caplen == want->caplen && got->len == want->len);
      check(got->ts.tv_sec == want->ts.tv_sec && got->ts.tv_usec == want->ts.tv_usec);
      check(std::memcmp(got_data, want_data, got->caplen) == 0);
    }
  }
  if (ours != nullptr) pcap_close(ours);
  if (theirs != nullptr) pcap_close(theirs);
  ::close(memfd);
  return 0;
}
