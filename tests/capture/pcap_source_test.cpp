// PcapSource: reading capture files through libpcap, and its errors.
#include "capture/pcap_source.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "decode/corpus_support.h"

namespace flowscope::capture {
namespace {

TEST(PcapSource, ReadsCorpusAndReportsMissingFiles) {
  auto missing = PcapSource::open("/nonexistent/file.pcap");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("/nonexistent/file.pcap"), std::string::npos);
  const auto path = flowscope::testing::corpus_dir() / "netflow" / "ls_netflow9_cisco_asa_2.pcap";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  auto src = PcapSource::open(path.string());
  ASSERT_TRUE(src.has_value());
  std::size_t n = 0;
  while (true) {
    auto pkt = src->next();
    ASSERT_TRUE(pkt.has_value());
    if (!pkt->has_value()) break;
    EXPECT_TRUE(extract_udp(src->link_type(), (*pkt)->data).has_value());
    ++n;
  }
  EXPECT_EQ(n, 3u);
}

}  // namespace
}  // namespace flowscope::capture
