// FlowOutput: bounded memory and descriptors when many streams stay open.
#include "capture/tcpflow/flow_output.h"

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "capture/tcp_reassembler.h"

namespace flowscope::capture::tcpflow {
namespace {

namespace fs = std::filesystem;

TEST(FlowOutput, BuffersAndDescriptorsStayBoundedWithManyOpenStreams) {
  const fs::path dir =
      fs::temp_directory_path() / ("flowscope-flowoutput-" + std::to_string(getpid()));
  fs::remove_all(dir);
  TcpflowOptions options;
  options.outdir = dir.string();
  options.max_fds = 50;
  fs::create_directories(dir);
  FlowOutput output(options, nullptr, nullptr);
  TcpReassembler reassembler({}, output);
  constexpr int kStreams = 3000;
  std::vector<std::uint8_t> seg(20 + 1000, 'x');
  std::size_t max_buffered = 0;
  for (int round = 0; round < 8; ++round) {  // 8 KB per stream, 24 MB in all, never closed
    for (int i = 0; i < kStreams; ++i) {
      TcpPacket p;
      p.key.family = 4;
      p.key.src = {10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
      p.key.dst = {10, 2, 0, 1};
      p.key.sport = 40000;
      p.key.dport = 80;
      const std::uint32_t seq = 1 + static_cast<std::uint32_t>(round) * 1000;
      seg[4] = static_cast<std::uint8_t>(seq >> 24);
      seg[5] = static_cast<std::uint8_t>(seq >> 16);
      seg[6] = static_cast<std::uint8_t>(seq >> 8);
      seg[7] = static_cast<std::uint8_t>(seq);
      seg[12] = 5 << 4;
      seg[13] = 0x10;                                    // ACK
      seg[20] = static_cast<std::uint8_t>('a' + round);  // distinct bytes per round
      p.segment = seg;
      p.segment_length = static_cast<std::uint32_t>(seg.size());
      ASSERT_EQ(reassembler.process(p), TcpVerdict::Processed);
      max_buffered = std::max(max_buffered, output.buffered_bytes());
      ASSERT_LE(output.open_files(), 50u);
    }
  }
  EXPECT_LE(max_buffered, FlowOutput::kTotalBuffer + 1000);
  EXPECT_EQ(reassembler.open_streams(), static_cast<std::size_t>(kStreams));
  reassembler.close_all();
  EXPECT_EQ(output.buffered_bytes(), 0u);
  EXPECT_EQ(output.open_files(), 0u);
  // Every stream's file holds its 8 KB, each round's byte at its place.
  const fs::path one = dir / "010.001.000.007.40000-010.002.000.001.00080";
  ASSERT_TRUE(fs::exists(one));
  EXPECT_EQ(fs::file_size(one), 8000u);
  EXPECT_GT(output.stats().reopens, 0u);  // 3000 streams through 50 descriptors
  fs::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::capture::tcpflow
