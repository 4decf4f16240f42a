#include "store/wal.h"

#include <fstream>

#include <gtest/gtest.h>

#include "store_test_support.h"

namespace flowscope::store {
namespace {

using testing::TempDir;

std::vector<std::pair<std::uint64_t, std::string>> replay_all(const std::filesystem::path& p,
                                                              WalReplayStats* stats) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  auto r = replay_wal(p, [&](std::uint64_t seq, std::span<const std::byte> payload) {
    out.emplace_back(seq,
                     std::string(reinterpret_cast<const char*>(payload.data()), payload.size()));
    return ok();
  });
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (r) *stats = *r;
  return out;
}

std::filesystem::path write_three(const TempDir& dir) {
  const auto path = dir.path() / "000000000001.wal";
  auto w = WalWriter::create(path, 1);
  EXPECT_TRUE(w.has_value());
  for (std::uint64_t i = 1; i <= 3; ++i) {
    EXPECT_TRUE((*w)->append(WalRecordType::Batch, i, std::string(100 * i, 'a' + i)).has_value());
  }
  EXPECT_TRUE((*w)->sync().has_value());
  return path;
}

TEST(Wal, RecordsReplayInOrder) {
  TempDir dir;
  const auto path = write_three(dir);
  WalReplayStats stats;
  auto records = replay_all(path, &stats);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].first, 3u);
  EXPECT_EQ(records[2].second, std::string(300, 'd'));
  EXPECT_EQ(stats.dropped_bytes, 0u);
}

TEST(Wal, TornTailIsCutAtEveryPossibleLength) {
  TempDir dir;
  const auto path = write_three(dir);
  const auto full = std::filesystem::file_size(path);
  const auto copy = dir.path() / "torn.wal";
  // Every cut inside the last record loses exactly that record and nothing else.
  const std::uintmax_t last_start = full - 300 - 21;
  for (std::uintmax_t len = last_start; len < full; ++len) {
    std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(copy, len);
    WalReplayStats stats;
    auto records = replay_all(copy, &stats);
    ASSERT_EQ(records.size(), 2u) << "cut at " << len;
    EXPECT_EQ(stats.dropped_bytes, len - last_start);
    EXPECT_EQ(stats.valid_bytes, last_start);
  }
}

TEST(Wal, CorruptRecordIsDetectedByChecksumAndCut) {
  TempDir dir;
  const auto path = write_three(dir);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(24 + 21 + 100 + 21 + 50);  // inside the second record's payload
    f.put('!');
  }
  WalReplayStats stats;
  auto records = replay_all(path, &stats);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(stats.drop_reason, "record checksum mismatch");
  EXPECT_GT(stats.dropped_bytes, 0u);
}

TEST(Wal, UnknownVersionIsRefused) {
  TempDir dir;
  const auto path = write_three(dir);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put(7);
  }
  auto r = replay_wal(path, [](std::uint64_t, std::span<const std::byte>) { return ok(); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  EXPECT_NE(r.error().message.find(path.string()), std::string::npos);
}

}  // namespace
}  // namespace flowscope::store
