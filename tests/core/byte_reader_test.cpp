#include "core/byte_reader.h"

#include <array>
#include <vector>

#include <gtest/gtest.h>

namespace flowscope {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

TEST(ByteReader, ReadsBigAndLittleEndian) {
  auto data = bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b});
  ByteReader r(data);
  EXPECT_EQ(r.u8(), 0x01);
  EXPECT_EQ(r.u16be(), 0x0203);
  EXPECT_EQ(r.u32be(), 0x04050607u);
  EXPECT_EQ(r.u24be(), 0x08090au);
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_FALSE(r.failed());
  ByteReader le(data);
  EXPECT_EQ(le.u16le(), 0x0201);
  EXPECT_EQ(le.u32le(), 0x06050403u);
  ByteReader r64(data);
  EXPECT_EQ(r64.u64be(), 0x0102030405060708ull);
  ByteReader l64(data);
  EXPECT_EQ(l64.u64le(), 0x0807060504030201ull);
}

TEST(ByteReader, OverrunReturnsZeroAndStaysFailed) {
  auto data = bytes({0xff, 0xee, 0xdd});
  ByteReader r(data);
  EXPECT_EQ(r.u32be(), 0u);  // only 3 bytes
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.u8(), 0u);  // sticky: nothing more is read
  EXPECT_TRUE(r.failed());
}

TEST(ByteReader, ReducedSizeIntegers) {
  auto data = bytes({0x00, 0x00, 0x01, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a});
  ByteReader r(data);
  EXPECT_EQ(r.uint_be(3), 0x000001u);
  EXPECT_EQ(r.uint_be(6), 0x00123456789aull);
  EXPECT_FALSE(r.failed());
  ByteReader zero(data);
  EXPECT_EQ(zero.uint_be(0), 0u);
  EXPECT_TRUE(zero.failed());
  ByteReader nine(data);
  EXPECT_EQ(nine.uint_be(9), 0u);  // wider than 64 bits
  EXPECT_TRUE(nine.failed());
}

TEST(ByteReader, TakeBoundsASubRecord) {
  auto data = bytes({0x00, 0x02, 0xaa, 0xbb, 0xcc});
  ByteReader r(data);
  std::uint16_t len = r.u16be();
  ByteReader sub = r.take(len);
  EXPECT_EQ(sub.size(), 2u);
  EXPECT_EQ(sub.u16be(), 0xaabb);
  EXPECT_EQ(sub.u8(), 0u);  // cannot read past its 2 bytes into the next record
  EXPECT_TRUE(sub.failed());
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.u8(), 0xcc);

  ByteReader short_reader(data);
  ByteReader too_long = short_reader.take(10);
  EXPECT_TRUE(short_reader.failed());
  EXPECT_TRUE(too_long.failed());
  EXPECT_EQ(too_long.size(), 0u);
}

TEST(ByteReader, BytesCopyOutSkipPeek) {
  auto data = bytes({1, 2, 3, 4, 5});
  ByteReader r(data);
  EXPECT_EQ(r.peek_u16be(), 0x0102);
  EXPECT_EQ(r.peek_u16be(3), 0x0405);
  EXPECT_EQ(r.peek_u16be(4), 0u);  // would run past the end; not a failure
  EXPECT_FALSE(r.failed());
  auto two = r.bytes(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1], std::byte{2});
  r.skip(1);
  std::array<std::uint8_t, 3> out{9, 9, 9};
  EXPECT_FALSE(r.copy_out(out.data(), 3));  // 2 left
  EXPECT_EQ(out, (std::array<std::uint8_t, 3>{0, 0, 0}));
  EXPECT_TRUE(r.failed());
  EXPECT_TRUE(r.rest().empty());
}

TEST(ByteReader, EmptyInput) {
  ByteReader r{std::span<const std::byte>()};
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.u16be(), 0u);
  EXPECT_TRUE(r.failed());
  ByteReader e;
  EXPECT_TRUE(e.bytes(0).empty());
  EXPECT_FALSE(e.failed());  // reading zero bytes is fine
}

}  // namespace
}  // namespace flowscope
