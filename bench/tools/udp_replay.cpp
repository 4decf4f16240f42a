// udp_replay: sends the UDP payloads of a capture to one collector at a fixed datagram rate, so
// that bench/e2e/serve_vs_nfcapd.sh can feed flowscope serve and nfcapd the same recorded export
// (softflowd's, say) at the same pace. Like tcpreplay for one UDP destination, without root.
// Usage: udp_replay PCAP HOST:PORT RATE [SECONDS]
//   RATE datagrams per second (0: as fast as the socket takes them); SECONDS: loop over the
//   capture until that long has passed (default: one pass). Each pass after the first is new
//   export, not a repeat a collector could drop as duplicates: NetFlow v5/v9 headers get their
//   export time moved on by the capture's span (+ 1 h) per pass, and their sequence numbers by
//   what one pass sent, so every flow's times (relative to the header's) and the sequence
//   move on as they would from a live exporter. Prints on stderr
//   "replay: N datagrams (F flows) in S s: R datagrams/s, P flows/s", F the data records sent
//   (count_records()).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <pcap/pcap.h>
#include <unistd.h>

namespace {

struct Datagram {
  std::vector<unsigned char> payload;
  std::uint64_t records = 0;
  std::uint32_t unix_secs = 0;  // v5/v9 header fields as captured (pass 0)
  std::uint32_t sequence = 0;
};

std::uint16_t be16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}
void put32(unsigned char* p, std::uint32_t v) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}
// Header offsets of the export time and sequence number: v5 (8, 16), v9 (8, 12); 0 = none.
std::pair<std::size_t, std::size_t> header_fields(const std::vector<unsigned char>& p) {
  if (p.size() < 20) return {0, 0};
  const std::uint16_t version = be16(p.data());
  if (version == 5 && p.size() >= 24) return {8, 16};
  if (version == 9) return {8, 12};
  return {0, 0};
}

// Data records in a NetFlow v5/v9 or IPFIX datagram: v5 from its count; v9 and IPFIX from each
// data set's length divided by its template's record length (templates learned in capture
// order, by id; a data set before its template counts 0, as a collector drops it). Padding at a
// set's end is less than a record, so the division ignores it.
std::uint64_t count_records(const unsigned char* p, std::size_t n,
                            std::map<std::uint32_t, std::size_t>& templates) {
  if (n < 4) return 0;
  const std::uint16_t version = be16(p);
  if (version == 1 || version == 5 || version == 7) return be16(p + 2);
  if (version != 9 && version != 10) return 0;
  const std::uint16_t template_set = version == 9 ? 0 : 2;
  std::uint64_t records = 0;
  for (std::size_t pos = version == 9 ? 20 : 16; pos + 4 <= n;) {
    const std::uint16_t id = be16(p + pos);
    const std::size_t len = be16(p + pos + 2);
    if (len < 4 || pos + len > n) break;
    const std::size_t end = pos + len;
    if (id == template_set) {
      for (std::size_t t = pos + 4; t + 4 <= end;) {
        const std::uint16_t tid = be16(p + t), fields = be16(p + t + 2);
        std::size_t record = 0, f = t + 4;
        for (std::uint16_t i = 0; i < fields && f + 4 <= end; ++i) {
          const std::uint16_t ie = be16(p + f);
          record += be16(p + f + 2);
          f += (version == 10 && (ie & 0x8000) != 0) ? 8 : 4;
        }
        if (fields == 0) break;  // a withdrawal or padding
        templates[tid] = record;
        t = f;
      }
    } else if (id >= 256) {
      auto it = templates.find(id);
      if (it != templates.end() && it->second > 0) records += (len - 4) / it->second;
    }
    pos = end;
  }
  return records;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: udp_replay PCAP HOST:PORT RATE [SECONDS]\n");
    return 2;
  }
  const std::string target = argv[2];
  const double rate = std::atof(argv[3]);
  const double seconds = argc > 4 ? std::atof(argv[4]) : 0;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap = pcap_open_offline(argv[1], errbuf);
  if (pcap == nullptr) {
    std::fprintf(stderr, "udp_replay: %s: %s\n", argv[1], errbuf);
    return 1;
  }
  // The UDP payloads: Ethernet or raw IPv4, no options beyond IHL, no fragments.
  const int link = pcap_datalink(pcap);
  std::vector<Datagram> datagrams;
  std::map<std::uint32_t, std::size_t> templates;
  pcap_pkthdr* hdr = nullptr;
  const unsigned char* data = nullptr;
  while (pcap_next_ex(pcap, &hdr, &data) == 1) {
    std::size_t off = link == DLT_EN10MB ? 14 : 0;
    if (link == DLT_EN10MB && hdr->caplen >= 14 && be16(data + 12) == 0x8100) off = 18;
    if (hdr->caplen < off + 28 || (data[off] >> 4) != 4 || data[off + 9] != 17) continue;
    const std::size_t ihl = static_cast<std::size_t>(data[off] & 0x0f) * 4;
    const std::size_t udp = off + ihl;
    if (hdr->caplen < udp + 8) continue;
    const std::size_t len = std::min<std::size_t>(be16(data + udp + 4), hdr->caplen - udp);
    if (len < 8) continue;
    Datagram d;
    d.payload.assign(data + udp + 8, data + udp + len);
    d.records = count_records(d.payload.data(), d.payload.size(), templates);
    if (auto [time_at, seq_at] = header_fields(d.payload); time_at != 0) {
      d.unix_secs = be32(d.payload.data() + time_at);
      d.sequence = be32(d.payload.data() + seq_at);
    }
    datagrams.push_back(std::move(d));
  }
  pcap_close(pcap);
  if (datagrams.empty()) {
    std::fprintf(stderr, "udp_replay: %s holds no IPv4 UDP datagram\n", argv[1]);
    return 1;
  }
  // What one pass moves on: the span of export times, and the sequence (v9 counts datagrams,
  // v5 flows; one exporter per capture is assumed, else the sequence shows gaps, as nfcapd's
  // "sequence failures" say, and nothing else changes).
  std::uint32_t first_secs = UINT32_MAX, last_secs = 0;
  std::uint64_t pass_records = 0;
  for (const Datagram& d : datagrams) {
    if (d.unix_secs == 0) continue;
    first_secs = std::min(first_secs, d.unix_secs);
    last_secs = std::max(last_secs, d.unix_secs);
    pass_records += d.records;
  }
  const std::uint32_t pass_secs = first_secs <= last_secs ? last_secs - first_secs + 3600 : 0;
  const std::uint64_t pass_sequence =
      be16(datagrams.front().payload.data()) == 9 ? datagrams.size() : pass_records;
  const auto colon = target.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::atoi(target.c_str() + colon + 1)));
  if (colon == std::string::npos ||
      inet_pton(AF_INET, target.substr(0, colon).c_str(), &to.sin_addr) != 1) {
    std::fprintf(stderr, "udp_replay: %s is not IPV4:PORT\n", target.c_str());
    return 2;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    std::perror("udp_replay: connect");
    return 1;
  }
  // Bursts of up to 32 datagrams, each due at start + index / rate.
  constexpr std::size_t kBurst = 32;
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t sent = 0, records = 0;
  std::vector<mmsghdr> msgs(kBurst);
  std::vector<iovec> iov(kBurst);
  for (;;) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > 0 ? elapsed >= seconds : sent >= datagrams.size()) break;
    std::size_t burst = kBurst;
    if (rate > 0) {
      const double due = static_cast<double>(sent) / rate;
      if (due > elapsed) {
        std::this_thread::sleep_for(std::chrono::duration<double>(due - elapsed));
      }
      burst = std::max<std::size_t>(
          1, std::min<std::size_t>(kBurst, static_cast<std::size_t>(rate / 1000) + 1));
    }
    if (seconds <= 0) burst = std::min<std::size_t>(burst, datagrams.size() - sent);
    for (std::size_t i = 0; i < burst; ++i) {
      const std::uint64_t index = sent + i;
      Datagram& d = datagrams[index % datagrams.size()];
      const std::uint64_t pass = index / datagrams.size();
      if (auto [time_at, seq_at] = header_fields(d.payload); time_at != 0) {
        put32(d.payload.data() + time_at,
              static_cast<std::uint32_t>(d.unix_secs + pass * pass_secs));
        put32(d.payload.data() + seq_at,
              static_cast<std::uint32_t>(d.sequence + pass * pass_sequence));
      }
      iov[i] = {d.payload.data(), d.payload.size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(burst), 0);
    if (n <= 0) continue;  // a full socket buffer: try again
    for (int i = 0; i < n; ++i) {
      records += datagrams[(sent + static_cast<std::uint64_t>(i)) % datagrams.size()].records;
    }
    sent += static_cast<std::uint64_t>(n);
  }
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr,
               "replay: %llu datagrams (%llu flows) in %.2f s: %.0f datagrams/s, %.0f flows/s\n",
               static_cast<unsigned long long>(sent), static_cast<unsigned long long>(records),
               took, static_cast<double>(sent) / took, static_cast<double>(records) / took);
  ::close(fd);
  return 0;
}
