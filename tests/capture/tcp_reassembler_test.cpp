// TcpReassembler: where bytes of each direction go, with tcpflow 1.6.1's rules.
#include "capture/tcp_reassembler.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace flowscope::capture {
namespace {

// Applies stores to an in-memory sparse "file" per stream, the way a file would hold them.
class MemorySink : public TcpStreamSink {
 public:
  struct Out {
    std::string bytes;
    std::vector<std::uint64_t> offsets;
    bool closed = false;
    std::uint64_t out_of_order = 0;
    std::uint64_t last_byte = 0;
    std::uint64_t id = 0;
  };
  void on_open(TcpStream& s) override {
    s.sink_slot = outs.size();
    outs.emplace_back();
    outs.back().id = s.id;
  }
  void on_store(TcpStream& s, std::uint64_t offset, std::span<const std::uint8_t> data,
                std::uint32_t, TimeUs) override {
    Out& o = outs[s.sink_slot];
    o.offsets.push_back(offset);
    if (offset > (1ULL << 20)) return;  // large offsets: only record where they go
    if (o.bytes.size() < offset + data.size()) o.bytes.resize(offset + data.size(), '\0');
    std::copy(data.begin(), data.end(), o.bytes.begin() + static_cast<std::ptrdiff_t>(offset));
  }
  void on_insert_front(TcpStream& s, std::uint64_t n) override {
    Out& o = outs[s.sink_slot];
    const std::string old = o.bytes;
    o.bytes.resize(old.size() + n, '\0');
    std::copy(old.begin(), old.end(), o.bytes.begin() + static_cast<std::ptrdiff_t>(n));
  }
  void on_print(TcpStream&, std::span<const std::uint8_t>) override {}
  void on_close(TcpStream& s) override {
    Out& o = outs[s.sink_slot];
    o.closed = true;
    o.out_of_order = s.out_of_order_count;
    o.last_byte = s.last_byte;
  }
  bool saved_data_matches(std::size_t slot, std::uint32_t offset,
                          std::span<const std::uint8_t> data) override {
    const Out& o = outs[slot];
    return offset + data.size() <= o.bytes.size() &&
           std::equal(data.begin(), data.end(), o.bytes.begin() + offset);
  }
  std::size_t save_slot(const TcpStream& s) override { return s.sink_slot; }
  void forget_saved(std::size_t) override {}

  std::vector<Out> outs;
};

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

class ReassemblerTest : public ::testing::Test {
 protected:
  void SetUp() { reset({}); }
  void reset(TcpReassemblerOptions o) {
    sink = MemorySink{};
    r = std::make_unique<TcpReassembler>(o, sink);
  }
  TcpVerdict send(std::uint32_t seq, std::uint8_t flags, const std::string& data,
                  std::uint16_t sport = 1000) {
    std::vector<std::uint8_t> seg(20, 0);
    seg[0] = static_cast<std::uint8_t>(sport >> 8);
    seg[1] = static_cast<std::uint8_t>(sport);
    seg[3] = 80;
    seg[4] = static_cast<std::uint8_t>(seq >> 24);
    seg[5] = static_cast<std::uint8_t>(seq >> 16);
    seg[6] = static_cast<std::uint8_t>(seq >> 8);
    seg[7] = static_cast<std::uint8_t>(seq);
    seg[12] = 5 << 4;
    seg[13] = flags;
    seg.insert(seg.end(), data.begin(), data.end());
    TcpPacket p;
    p.ts = ++clock;
    p.key.family = 4;
    p.key.src = {10, 0, 0, 1};
    p.key.dst = {10, 0, 0, 2};
    p.key.sport = sport;
    p.key.dport = 80;
    p.segment = seg;
    p.segment_length = static_cast<std::uint32_t>(seg.size());
    p.wire_length = p.cap_length = p.segment_length + 34;
    return r->process(p);
  }
  MemorySink sink;
  std::unique_ptr<TcpReassembler> r;
  TimeUs clock = 0;
};

TEST_F(ReassemblerTest, InOrderStreamClosesOnFinWhenAllBytesSeen) {
  send(100, kSyn, "");
  send(101, kAck, "hello ");
  send(107, kAck, "world");
  send(112, kFin | kAck, "");
  ASSERT_EQ(sink.outs.size(), 1u);
  EXPECT_EQ(sink.outs[0].bytes, "hello world");
  EXPECT_TRUE(sink.outs[0].closed);
  EXPECT_EQ(sink.outs[0].last_byte, 11u);
}

TEST_F(ReassemblerTest, RetransmissionsOverlapsAndReorderingLandInPlace) {
  send(100, kSyn, "");
  send(101, kAck, "AAAA");
  send(110, kAck, "CCCC");   // gap of 5 bytes
  send(103, kAck, "xxxyy");  // back into the gap, overlapping "AA"
  send(101, kAck, "AA");     // retransmission
  r->close_all();
  EXPECT_EQ(sink.outs[0].bytes, std::string("AAxxxyy\0\0CCCC", 13));
  EXPECT_EQ(sink.outs[0].out_of_order, 2u);
}

TEST_F(ReassemblerTest, FinWaitsForMissingBytes) {
  send(100, kSyn, "");
  send(101, kAck, "AAAA");
  send(109, kFin | kAck, "CCCC");  // bytes 4..8 missing
  EXPECT_FALSE(sink.outs[0].closed);
  send(105, kAck, "BBBB");
  EXPECT_TRUE(sink.outs[0].closed);
  EXPECT_EQ(sink.outs[0].bytes, "AAAABBBBCCCC");
}

TEST_F(ReassemblerTest, DataBeforeTheFirstByteWithoutSynIsInsertedAtTheFront) {
  send(200, kAck, "BBBB");
  send(190, kAck, "AAAA");
  send(204, kAck, "CCCC");
  r->close_all();
  EXPECT_EQ(sink.outs[0].bytes, std::string("AAAA\0\0\0\0\0\0BBBBCCCC", 18));
  EXPECT_EQ(sink.outs[0].out_of_order, 1u);
}

TEST_F(ReassemblerTest, SequenceNumbersWrapAround) {
  send(0xfffffff0u, kSyn, "");
  send(0xfffffff1u, kAck, std::string(20, 'A'));
  send(0x00000005u, kAck, std::string(20, 'B'));
  r->close_all();
  EXPECT_EQ(sink.outs[0].bytes, std::string(20, 'A') + std::string(20, 'B'));
}

TEST_F(ReassemblerTest, OffsetsGoPast4GiB) {
  TcpReassemblerOptions o;
  o.max_seek = 0x7fffffff;
  reset(o);
  std::uint32_t seq = 1;
  send(0, kSyn, "");
  for (int i = 0; i < 6; ++i) {
    send(seq, kAck, "x");
    seq += 1u << 30;  // each next segment 1 GiB further on
  }
  ASSERT_EQ(sink.outs.size(), 1u);
  EXPECT_EQ(sink.outs[0].offsets.back(), 5ULL << 30);
}

TEST_F(ReassemblerTest, LargeJumpStartsANewFlowOfTheSameTuple) {
  send(100, kSyn, "");
  send(101, kAck, "one");
  send(101 + 20000000, kAck, "two");  // beyond the default 16 MiB max_seek
  r->close_all();
  ASSERT_EQ(sink.outs.size(), 2u);
  EXPECT_EQ(sink.outs[0].bytes, "one");
  EXPECT_EQ(sink.outs[1].bytes, "two");
  EXPECT_EQ(sink.outs[1].id, 1u);
}

TEST_F(ReassemblerTest, RstEndsTheFlowAndLateRetransmissionsAreDropped) {
  send(100, kSyn, "");
  send(101, kAck, "data");
  send(105, kRst, "");
  EXPECT_TRUE(sink.outs[0].closed);
  EXPECT_EQ(send(101, kAck, "data"), TcpVerdict::Processed);  // repeats the saved flow
  EXPECT_EQ(sink.outs.size(), 1u);
  send(101, kAck, "DATA");  // differs: a new flow
  EXPECT_EQ(sink.outs.size(), 2u);
}

TEST_F(ReassemblerTest, PureAcksOfUnknownFlowsStartNothing) {
  send(100, kAck, "");
  send(100, kFin | kAck, "");
  EXPECT_TRUE(sink.outs.empty());
  EXPECT_EQ(r->open_streams(), 0u);
}

TEST_F(ReassemblerTest, ShortSegmentsAreNotProcessed) {
  TcpPacket p;
  std::vector<std::uint8_t> seg(10, 0);
  p.segment = seg;
  p.segment_length = 10;
  EXPECT_EQ(r->process(p), TcpVerdict::NotProcessed);
}

TEST_F(ReassemblerTest, KeepalivesAreIgnored) {
  send(100, kSyn, "");
  send(101, kAck, "abc");
  send(103, kAck, "c");  // one byte at nsn-1: RFC 1122 keep-alive
  r->close_all();
  EXPECT_EQ(sink.outs[0].out_of_order, 0u);
  EXPECT_EQ(sink.outs[0].bytes, "abc");
}

TEST(SeenSet, MergesOverlappingAndAdjacentRanges) {
  SeenSet s;
  s.add(0, 4);
  s.add(9, 13);
  s.add(2, 7);
  EXPECT_EQ(s.size(), 11u);
  EXPECT_EQ(s.intervals(), 2u);
  s.add(7, 9);
  EXPECT_EQ(s.size(), 13u);
  EXPECT_EQ(s.intervals(), 1u);
}

}  // namespace
}  // namespace flowscope::capture
