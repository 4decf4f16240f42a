#pragma once
// Builds Ethernet (optionally 802.1Q-tagged) / IPv4 or IPv6 / TCP frames and writes them as a
// classic microsecond pcap: what the tcpflow tests and the bench generator
// (bench/tools/gen_http_pcap.cpp) feed to both tcpflow implementations. Header-only and
// dependency-free on purpose; IPv4 header checksums are computed, TCP checksums are left 0
// (tcpflow does not check them).
//
// One writer per file, one thread.

#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace flowscope::capture::tcpflow {

struct TcpFrameSpec {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> src{};  // IPv4 in the first 4 bytes
  std::array<std::uint8_t, 16> dst{};
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;  // FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10
  int vlan_tci = -1;       // 802.1Q tag control word, -1 untagged
};

inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10;

inline void build_tcp_frame(const TcpFrameSpec& s, std::span<const std::uint8_t> payload,
                            std::vector<std::uint8_t>& out) {
  out.clear();
  auto put16 = [&out](std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  };
  auto put32 = [&](std::uint32_t v) {
    put16(v >> 16);
    put16(v & 0xffff);
  };
  const std::uint8_t dst_mac[6] = {0x00, 0x1f, 0x5b, 0xc7, 0xfa, 0xd2};
  const std::uint8_t src_mac[6] = {0x00, 0x0f, 0xcc, 0xfe, 0xcc, 0xdc};
  out.insert(out.end(), dst_mac, dst_mac + 6);
  out.insert(out.end(), src_mac, src_mac + 6);
  if (s.vlan_tci >= 0) {
    put16(0x8100);
    put16(static_cast<std::uint32_t>(s.vlan_tci));
  }
  put16(s.ipv6 ? 0x86dd : 0x0800);
  const std::size_t ip_at = out.size();
  const std::uint32_t tcp_len = 20 + static_cast<std::uint32_t>(payload.size());
  if (s.ipv6) {
    put32(0x60000000);
    put16(tcp_len);
    out.push_back(6);
    out.push_back(64);
    out.insert(out.end(), s.src.begin(), s.src.end());
    out.insert(out.end(), s.dst.begin(), s.dst.end());
  } else {
    put16(0x4500);
    put16(20 + tcp_len);
    put16(0x1234);
    put16(0x4000);
    out.push_back(64);
    out.push_back(6);
    put16(0);
    out.insert(out.end(), s.src.begin(), s.src.begin() + 4);
    out.insert(out.end(), s.dst.begin(), s.dst.begin() + 4);
    std::uint32_t sum = 0;
    for (std::size_t i = ip_at; i < ip_at + 20; i += 2) sum += (out[i] << 8) | out[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    out[ip_at + 10] = static_cast<std::uint8_t>(~sum >> 8);
    out[ip_at + 11] = static_cast<std::uint8_t>(~sum);
  }
  put16(s.sport);
  put16(s.dport);
  put32(s.seq);
  put32(s.ack);
  out.push_back(5 << 4);
  out.push_back(s.flags);
  put16(65535);
  put16(0);
  put16(0);
  out.insert(out.end(), payload.begin(), payload.end());
  // Ethernet minimum frame (without FCS): short frames are padded, as on a real wire.
  while (out.size() < 60) out.push_back(0);
}

class TcpPcapFile {
 public:
  explicit TcpPcapFile(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
    if (f_ == nullptr) return;
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    const std::uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1};
    std::fwrite(hdr, sizeof hdr, 1, f_);
  }
  ~TcpPcapFile() { close(); }
  TcpPcapFile(const TcpPcapFile&) = delete;
  TcpPcapFile& operator=(const TcpPcapFile&) = delete;

  bool ok() const { return f_ != nullptr; }
  // `cap` bytes of the frame are recorded (all when 0); its wire length stays frame.size().
  void write(std::int64_t usec_since_epoch, std::span<const std::uint8_t> frame,
             std::size_t cap = 0) {
    if (f_ == nullptr) return;
    const std::size_t n = cap == 0 || cap > frame.size() ? frame.size() : cap;
    const std::uint32_t rec[4] = {static_cast<std::uint32_t>(usec_since_epoch / 1000000),
                                  static_cast<std::uint32_t>(usec_since_epoch % 1000000),
                                  static_cast<std::uint32_t>(n),
                                  static_cast<std::uint32_t>(frame.size())};
    std::fwrite(rec, sizeof rec, 1, f_);
    std::fwrite(frame.data(), 1, n, f_);
  }
  bool close() {
    if (f_ == nullptr) return false;
    const bool ok = std::fclose(f_) == 0;
    f_ = nullptr;
    return ok;
  }

 private:
  std::FILE* f_;
};

}  // namespace flowscope::capture::tcpflow
