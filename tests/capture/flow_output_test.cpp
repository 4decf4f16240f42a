// FlowOutput: bounded memory and descriptors when many streams stay open.
#include "capture/tcpflow/flow_output.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "capture/tcp_reassembler.h"

namespace flowscope::capture::tcpflow {
namespace {

namespace fs = std::filesystem;

// One 1000-byte ACK segment of stream `i` (10.1.x.y:40000 -> 10.2.0.1:80) at sequence `seq`.
TcpPacket data_segment(int i, std::uint32_t seq, std::uint8_t fill,
                       std::vector<std::uint8_t>& seg) {
  seg.assign(20 + 1000, fill);
  TcpPacket p;
  p.key.family = 4;
  p.key.src = {10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
  p.key.dst = {10, 2, 0, 1};
  p.key.sport = 40000;
  p.key.dport = 80;
  seg[4] = static_cast<std::uint8_t>(seq >> 24);
  seg[5] = static_cast<std::uint8_t>(seq >> 16);
  seg[6] = static_cast<std::uint8_t>(seq >> 8);
  seg[7] = static_cast<std::uint8_t>(seq);
  seg[12] = 5 << 4;
  seg[13] = 0x10;  // ACK
  p.segment = seg;
  p.segment_length = static_cast<std::uint32_t>(seg.size());
  return p;
}

// F16 memory: a stream's buffer is freed when flushed, so what the buffers hold from the
// allocator stays within the budget (twice, for vector growth) plus a small remainder per
// stream, however many streams have been written. Before, every stream that once filled its
// buffer kept 128-256 KiB until it closed.
TEST(FlowOutput, FlushedBuffersGiveTheirMemoryBack) {
  const fs::path dir =
      fs::temp_directory_path() / ("flowscope-flowoutput-mem-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  TcpflowOptions options;
  options.outdir = dir.string();
  FlowOutput output(options, nullptr, nullptr);
  TcpReassembler reassembler({}, output);
  constexpr int kStreams = 100;
  constexpr int kSegments = 200;  // 200 KB a stream, one stream after the other, none closed
  constexpr std::size_t kSmall = 16 * 1024;  // what an idle stream may keep
  std::vector<std::uint8_t> seg;
  std::size_t max_capacity = 0;
  for (int i = 0; i < kStreams; ++i) {
    for (int k = 0; k < kSegments; ++k) {
      const auto p = data_segment(i, 1 + static_cast<std::uint32_t>(k) * 1000,
                                  static_cast<std::uint8_t>('a' + k % 26), seg);
      ASSERT_EQ(reassembler.process(p), TcpVerdict::Processed);
    }
    max_capacity = std::max(max_capacity, output.buffer_capacity());
  }
  EXPECT_LE(max_capacity, 2 * FlowOutput::kTotalBuffer + kStreams * kSmall);
  EXPECT_GT(output.stats().writes, static_cast<std::uint64_t>(kStreams));  // flushed at 128 KiB
  reassembler.close_all();
  EXPECT_EQ(output.buffered_bytes(), 0u);
  EXPECT_LE(output.buffer_capacity(), kStreams * kSmall);
  // The bytes are all there, in order.
  const fs::path one = dir / "010.001.000.042.40000-010.002.000.001.00080";
  ASSERT_TRUE(fs::exists(one));
  EXPECT_EQ(fs::file_size(one), kSegments * 1000u);
  std::ifstream in(one, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (int k = 0; k < kSegments; ++k) {
    ASSERT_EQ(bytes[static_cast<std::size_t>(k) * 1000 + 999], static_cast<char>('a' + k % 26))
        << k;
  }
  fs::remove_all(dir);
}

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
