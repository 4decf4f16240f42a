// MappedPcap: classic pcap records straight from a memory map, the same as libpcap returns
// them, and libpcap's turn (with its own messages) for anything else.
#include "capture/tcpflow/mapped_pcap.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace flowscope::capture::tcpflow {
namespace {

namespace fs = std::filesystem;

struct Record {
  std::int32_t sec;
  std::int32_t frac;
  std::vector<std::uint8_t> data;
  std::uint32_t caplen_field = 0;  // 0: data.size()
};

void put32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<char*>(&v), 4); }

// A host-order classic pcap (Ethernet, snaplen `snaplen`); the last record is cut to `cut` bytes
// of data when `cut` >= 0.
fs::path write_pcap(const std::string& name, std::uint32_t magic, std::uint32_t snaplen,
                    const std::vector<Record>& records, int cut = -1) {
  std::string out;
  put32(out, magic);
  put32(out, 0x00040002);
  put32(out, 0);
  put32(out, 0);
  put32(out, snaplen);
  put32(out, 1);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    put32(out, static_cast<std::uint32_t>(r.sec));
    put32(out, static_cast<std::uint32_t>(r.frac));
    const auto caplen =
        r.caplen_field != 0 ? r.caplen_field : static_cast<std::uint32_t>(r.data.size());
    put32(out, caplen);
    put32(out, static_cast<std::uint32_t>(r.data.size()) + 10);
    std::size_t n = r.data.size();
    if (i + 1 == records.size() && cut >= 0) n = static_cast<std::size_t>(cut);
    out.append(reinterpret_cast<const char*>(r.data.data()), n);
  }
  const fs::path path =
      fs::temp_directory_path() / ("flowscope-mapped-" + std::to_string(getpid()) + "-" + name);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(out.data(), 1, out.size(), f);
  std::fclose(f);
  return path;
}

struct Offline {
  explicit Offline(const fs::path& p) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pd = pcap_open_offline_with_tstamp_precision(p.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  }
  ~Offline() {
    if (pd != nullptr) pcap_close(pd);
  }
  pcap_t* pd = nullptr;
};

std::vector<std::uint8_t> bytes_of(std::size_t n, std::uint8_t first) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(first + i);
  return v;
}

TEST(MappedPcap, RecordsAsLibpcapReturnsThem) {
  const std::vector<Record> records = {{1700000000, 123456, bytes_of(60, 1)},
                                       {1700000001, 2000000, bytes_of(1514, 7)},  // usec >= 1e6
                                       {-5, 0, bytes_of(14, 9)}};
  const fs::path path = write_pcap("micro", 0xa1b2c3d4, 65535, records);
  Offline mapped_side(path);
  Offline libpcap_side(path);
  ASSERT_NE(mapped_side.pd, nullptr);
  auto mapped = MappedPcap::open(mapped_side.pd);
  ASSERT_NE(mapped, nullptr);
  for (std::size_t i = 0; i < records.size(); ++i) {
    pcap_pkthdr hdr{};
    const std::uint8_t* data = nullptr;
    ASSERT_EQ(mapped->next(hdr, data), MappedPcap::Next::Packet) << i;
    pcap_pkthdr* want = nullptr;
    const u_char* want_data = nullptr;
    ASSERT_EQ(pcap_next_ex(libpcap_side.pd, &want, &want_data), 1);
    EXPECT_EQ(hdr.ts.tv_sec, want->ts.tv_sec) << i;
    EXPECT_EQ(hdr.ts.tv_usec, want->ts.tv_usec) << i;
    EXPECT_EQ(hdr.caplen, want->caplen) << i;
    EXPECT_EQ(hdr.len, want->len) << i;
    EXPECT_EQ(std::vector<std::uint8_t>(data, data + hdr.caplen),
              std::vector<std::uint8_t>(want_data, want_data + want->caplen))
        << i;
  }
  pcap_pkthdr hdr{};
  const std::uint8_t* data = nullptr;
  EXPECT_EQ(mapped->next(hdr, data), MappedPcap::Next::End);
  fs::remove(path);
}

TEST(MappedPcap, NanosecondFilesInMicroseconds) {
  const fs::path path =
      write_pcap("nano", 0xa1b23c4d, 65535, {{1700000000, 123456789, bytes_of(60, 1)}});
  Offline side(path);
  auto mapped = MappedPcap::open(side.pd);
  ASSERT_NE(mapped, nullptr);
  pcap_pkthdr hdr{};
  const std::uint8_t* data = nullptr;
  ASSERT_EQ(mapped->next(hdr, data), MappedPcap::Next::Packet);
  EXPECT_EQ(hdr.ts.tv_usec, 123456);
  fs::remove(path);
}

TEST(MappedPcap, TruncatedRecordIsLibpcapsWithItsMessage) {
  const fs::path path =
      write_pcap("cut", 0xa1b2c3d4, 65535, {{1, 0, bytes_of(60, 1)}, {2, 0, bytes_of(100, 2)}}, 30);
  Offline side(path);
  auto mapped = MappedPcap::open(side.pd);
  ASSERT_NE(mapped, nullptr);
  pcap_pkthdr hdr{};
  const std::uint8_t* data = nullptr;
  ASSERT_EQ(mapped->next(hdr, data), MappedPcap::Next::Packet);
  ASSERT_EQ(mapped->next(hdr, data), MappedPcap::Next::Libpcap);
  pcap_pkthdr* h = nullptr;
  const u_char* d = nullptr;
  EXPECT_EQ(pcap_next_ex(side.pd, &h, &d), PCAP_ERROR);
  EXPECT_NE(std::string(pcap_geterr(side.pd)).find("truncated"), std::string::npos)
      << pcap_geterr(side.pd);
  fs::remove(path);
}

TEST(MappedPcap, RecordLongerThanSnaplenIsLibpcaps) {
  // caplen 200 in a file whose snaplen is 100: libpcap keeps 100 bytes and skips the rest.
  const fs::path path =
      write_pcap("long", 0xa1b2c3d4, 100,
                 {{1, 0, bytes_of(60, 1)}, {2, 0, bytes_of(200, 2)}, {3, 0, bytes_of(40, 3)}});
  Offline side(path);
  auto mapped = MappedPcap::open(side.pd);
  ASSERT_NE(mapped, nullptr);
  pcap_pkthdr hdr{};
  const std::uint8_t* data = nullptr;
  ASSERT_EQ(mapped->next(hdr, data), MappedPcap::Next::Packet);
  ASSERT_EQ(mapped->next(hdr, data), MappedPcap::Next::Libpcap);
  pcap_pkthdr* h = nullptr;
  const u_char* d = nullptr;
  ASSERT_EQ(pcap_next_ex(side.pd, &h, &d), 1);
  EXPECT_EQ(h->ts.tv_sec, 2);
  ASSERT_EQ(pcap_next_ex(side.pd, &h, &d), 1);
  EXPECT_EQ(h->ts.tv_sec, 3);
  EXPECT_EQ(h->caplen, 40u);
  fs::remove(path);
}

TEST(MappedPcap, OtherFormatsAreLibpcaps) {
  // A big-endian classic pcap (swapped on this host): libpcap reads it, the map does not.
  const fs::path path =
      fs::temp_directory_path() / ("flowscope-mapped-" + std::to_string(getpid()) + "-swapped");
  const unsigned char header[24] = {0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0,    4,    0, 0, 0, 0,
                                    0,    0,    0,    0,    0, 0, 0xff, 0xff, 0, 0, 0, 1};
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(header, 1, sizeof header, f);
  std::fclose(f);
  Offline side(path);
  ASSERT_NE(side.pd, nullptr);
  EXPECT_EQ(MappedPcap::open(side.pd), nullptr);
  fs::remove(path);
}

}  // namespace
}  // namespace flowscope::capture::tcpflow
