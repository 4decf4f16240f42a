#include "store/segment.h"

#include <fstream>

#include <gtest/gtest.h>

#include "store/batch_codec.h"

#include "store_test_support.h"

namespace flowscope::store {
namespace {

using testing::TempDir;

void patch_byte(const std::filesystem::path& path, std::size_t offset, char value) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(value);
}

TEST(Segment, WritesBlocksWithZoneMapsAndReadsThemBack) {
  TempDir dir;
  SessionBatch batch = testing::make_sessions(100, 20000, 1'764'000'000'000, 10);
  SegmentWriteOptions opt;
  opt.block_rows = 8192;
  opt.wal_number = 7;
  const auto path = dir.path() / "seg-000000000007.fsg";
  auto info = write_segment(path, batch, opt);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  auto seg = Segment::open(path);
  ASSERT_TRUE(seg.has_value()) << seg.error().message;
  const Segment& s = **seg;
  EXPECT_EQ(s.info().rows, 20000u);
  EXPECT_EQ(s.info().wal_number, 7u);
  EXPECT_EQ(s.info().min_time, 1'764'000'000'000);
  EXPECT_EQ(s.info().max_time, 1'764'000'000'000 + 19999 * 10);
  ASSERT_EQ(s.blocks().size(), 3u);
  EXPECT_EQ(s.blocks()[2].rows, 20000u - 2 * 8192);
  const int slot = s.slot_of(FieldId::SessionId);
  ASSERT_GE(slot, 0);
  const ZoneMap& z = s.blocks()[1].chunks[static_cast<std::size_t>(slot)].zone;
  EXPECT_EQ(z.min, order_key(std::uint64_t{100 + 8192}));
  EXPECT_EQ(z.max, order_key(std::uint64_t{100 + 2 * 8192 - 1}));

  SessionBatch out;
  out.add_rows(s.blocks()[1].rows);
  ASSERT_TRUE(s.read_chunk(1, slot, out.mutable_column(FieldId::SessionId)).has_value());
  EXPECT_EQ(out.get<FieldId::SessionId>(0), 100u + 8192);
}

TEST(Segment, UnknownVersionIsRefusedNamingTheFile) {
  TempDir dir;
  const auto path = dir.path() / "seg-000000000001.fsg";
  ASSERT_TRUE(write_segment(path, testing::make_sessions(1, 10, 0), {}).has_value());
  patch_byte(path, 8, 99);  // version field
  auto seg = Segment::open(path);
  ASSERT_FALSE(seg.has_value());
  EXPECT_EQ(seg.error().code, ErrorCode::Unsupported);
  EXPECT_NE(seg.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(seg.error().message.find("version 99"), std::string::npos);
}

TEST(Segment, CorruptChunkFailsItsChecksumNamingFileBlockAndColumn) {
  TempDir dir;
  const auto path = dir.path() / "seg-000000000001.fsg";
  SessionBatch batch = testing::make_sessions(1, 1000, 0);
  ASSERT_TRUE(write_segment(path, batch, {}).has_value());
  auto seg = Segment::open(path);
  ASSERT_TRUE(seg.has_value());
  const int slot = (*seg)->slot_of(FieldId::ClnBytes);
  const ChunkRef ref = (*seg)->blocks()[0].chunks[static_cast<std::size_t>(slot)];
  seg->reset();
  patch_byte(path, ref.offset + ref.size / 2, '\x5a');
  auto reopened = Segment::open(path);
  ASSERT_TRUE(reopened.has_value());  // the footer is intact; the chunk is not
  SessionBatch out;
  out.add_rows(1000);
  auto r = (*reopened)->read_chunk(0, slot, out.mutable_column(FieldId::ClnBytes));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Corruption);
  EXPECT_NE(r.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(r.error().message.find("cln_bytes"), std::string::npos);
}

TEST(Segment, TruncatedFileIsReportedAsCutShort) {
  TempDir dir;
  const auto path = dir.path() / "seg-000000000001.fsg";
  ASSERT_TRUE(write_segment(path, testing::make_sessions(1, 1000, 0), {}).has_value());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  auto seg = Segment::open(path);
  ASSERT_FALSE(seg.has_value());
  EXPECT_EQ(seg.error().code, ErrorCode::Corruption);
  EXPECT_NE(seg.error().message.find(path.string()), std::string::npos);
}

}  // namespace
}  // namespace flowscope::store
