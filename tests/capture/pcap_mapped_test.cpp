// PcapSource's mapped path for classic pcap files: the same packets as libpcap, BPF filters,
// files cut short, and pcapng still through libpcap.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "capture/pcap_source.h"

#include "test_support.h"

namespace flowscope::capture {
namespace {

namespace fs = std::filesystem;

fs::path corpus_tcp() { return testing::corpus_root() / "tcp"; }

struct Read {
  std::size_t packets = 0;
  std::size_t bytes = 0;
  std::int64_t first_ns = 0;
  std::string error;
};

Read read_all(const std::string& path, const std::string& filter = "") {
  Read r;
  auto src = PcapSource::open(path);
  if (!src) {
    r.error = src.error().message;
    return r;
  }
  if (!filter.empty()) {
    auto f = src->set_filter(filter);
    if (!f) {
      r.error = f.error().message;
      return r;
    }
  }
  while (true) {
    auto pkt = src->next();
    if (!pkt) {
      r.error = pkt.error().message;
      break;
    }
    if (!pkt->has_value()) break;
    if (r.packets == 0) r.first_ns = (*pkt)->timestamp_ns;
    ++r.packets;
    r.bytes += (*pkt)->wire_length;
  }
  return r;
}

TEST(PcapMapped, ClassicFilesFiltersAndCutShortFiles) {
  const fs::path file = corpus_tcp() / "tf_test1.pcap";
  if (!fs::exists(file)) GTEST_SKIP() << "corpus not found at " << corpus_tcp();
  const Read all = read_all(file.string());
  EXPECT_EQ(all.error, "");
  EXPECT_EQ(all.packets, 31u);
  EXPECT_EQ(all.bytes, 6527u);                   // frame bytes, as tshark's capinfos reports
  EXPECT_EQ(all.first_ns, 1223315692549570000);  // tshark: frame.time_epoch 1223315692.549570

  const Read udp = read_all(file.string(), "udp");
  EXPECT_EQ(udp.packets, 7u);
  const Read bad = read_all(file.string(), "tcp port");
  EXPECT_NE(bad.error.find("filter \"tcp port\""), std::string::npos) << bad.error;

  // The same file cut 10 bytes short: 30 packets, then an error naming the file.
  std::ifstream in(file, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path cut =
      fs::temp_directory_path() / ("flowscope_cut_" + std::to_string(::getpid()) + ".pcap");
  std::ofstream(cut, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 10));
  const Read truncated = read_all(cut.string());
  fs::remove(cut);
  EXPECT_EQ(truncated.packets, 30u);
  EXPECT_NE(truncated.error.find("cut short"), std::string::npos) << truncated.error;
  EXPECT_NE(truncated.error.find(cut.string()), std::string::npos) << truncated.error;
}

TEST(PcapMapped, PcapngStillReadsThroughLibpcap) {
  const fs::path file = corpus_tcp() / "nd_http.pcapng";
  if (!fs::exists(file)) GTEST_SKIP() << "corpus not found at " << corpus_tcp();
  const Read all = read_all(file.string());
  EXPECT_EQ(all.error, "");
  EXPECT_EQ(all.packets, 10u);
  const Read tcp = read_all(file.string(), "tcp");
  EXPECT_EQ(tcp.packets, 10u);
}

}  // namespace
}  // namespace flowscope::capture
