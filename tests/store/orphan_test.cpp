// F15 item 2: a store never deletes data it cannot account for. A missing or older CHECKPOINT
// (or a stray file) used to make the next writable open delete sealed segments; now those
// segments go to DATADIR/orphans/, are counted, and `flowscope store check|repair` report and
// restore them.
#include <sys/file.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "store/embedded_store.h"

#include "store_test_support.h"
#include "test_support.h"

namespace flowscope::store {
namespace {

namespace fs = std::filesystem;
using flowscope::testing::run_flowscope;
using testing::make_sessions;
using testing::scan_all;
using testing::TempDir;

constexpr std::int64_t kT0 = 1'764'000'000'000;  // 2025-11-24T16:00:00Z, an hour boundary
constexpr std::size_t kRowsPerFlush = 500;       // 14.4 s apart: each flush spans 2 raw partitions
constexpr std::int64_t kStepMs = 14'400;

StoreOptions options_for(const fs::path& dir) {
  StoreOptions o;
  o.dir = dir;
  o.sync_interval = std::chrono::milliseconds(0);
  o.rollups = {{"by_port", {FieldId::SrvPort}}};
  return o;
}

std::unique_ptr<EmbeddedStore> open_store(const StoreOptions& o) {
  auto s = EmbeddedStore::open(o);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

// Appends and flushes `flushes` times, each flush its own rows, segments and WAL number.
void write_flushes(const fs::path& dir, int first, int flushes) {
  auto store = open_store(options_for(dir));
  ASSERT_NE(store, nullptr);
  for (int f = first; f < first + flushes; ++f) {
    const auto batch = make_sessions(static_cast<std::uint64_t>(f) * kRowsPerFlush + 1,
                                     kRowsPerFlush, kT0 + f * 7'200'000LL, kStepMs);
    ASSERT_TRUE(store->append(batch).has_value());
    ASSERT_TRUE(store->flush().has_value());
  }
  ASSERT_TRUE(store->close().has_value());
}

// Every file under raw/ and rollup/ (relative path -> size).
std::map<std::string, std::uintmax_t> segment_files(const fs::path& dir) {
  std::map<std::string, std::uintmax_t> out;
  for (const char* top : {"raw", "rollup"}) {
    if (!fs::exists(dir / top)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir / top)) {
      if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = e.file_size();
    }
  }
  return out;
}

std::size_t count_rows(const fs::path& dir) {
  StoreOptions o = options_for(dir);
  o.read_only = true;
  auto store = open_store(o);
  return store ? scan_all(*store).size() : 0;
}

// Each file of `before` is still there, either in place or under orphans/ with the same size.
void expect_all_kept(const fs::path& dir, const std::map<std::string, std::uintmax_t>& before,
                     std::set<std::string>* orphaned) {
  for (const auto& [rel, size] : before) {
    const bool in_place = fs::exists(dir / rel);
    const bool aside = fs::exists(dir / "orphans" / rel);
    EXPECT_TRUE(in_place != aside) << rel << " in place: " << in_place << ", in orphans: " << aside;
    if (aside) {
      EXPECT_EQ(fs::file_size(dir / "orphans" / rel), size) << rel;
      orphaned->insert(rel);
    } else if (in_place) {
      EXPECT_EQ(fs::file_size(dir / rel), size) << rel;
    }
  }
}

TEST(StoreOrphans, MissingCheckpointKeepsEverySegmentAndRepairRestoresAllRows) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  write_flushes(dir, 0, 4);
  const auto before = segment_files(dir);
  ASSERT_GE(before.size(), 4u * 2u);  // 2 raw partitions per flush, plus rollups
  ASSERT_EQ(count_rows(dir), 4 * kRowsPerFlush);
  ASSERT_TRUE(fs::remove(dir / "CHECKPOINT"));

  {
    auto store = open_store(options_for(dir));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->recovery().orphaned_segments, before.size());
    EXPECT_EQ(store->recovery().incomplete_segments_removed, 0u);
    ASSERT_TRUE(store->close().has_value());
  }
  std::set<std::string> orphaned;
  expect_all_kept(dir, before, &orphaned);
  EXPECT_EQ(orphaned.size(), before.size());  // none is referenced without a checkpoint

  auto check = run_flowscope({"store", "check", "-d", dir.string()});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE(check.out.find("not referenced"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("orphans/raw/"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("flowscope store repair"), std::string::npos) << check.out;

  auto repair = run_flowscope({"store", "repair", "-d", dir.string()});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_NE(repair.out.find(fmt::format("restored {} segments", before.size())), std::string::npos)
      << repair.out;
  EXPECT_EQ(segment_files(dir), before);
  EXPECT_EQ(count_rows(dir), 4 * kRowsPerFlush);

  auto again = run_flowscope({"store", "check", "-d", dir.string()});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  // A writable open after the repair keeps everything and orphans nothing.
  auto store = open_store(options_for(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->recovery().orphaned_segments, 0u);
  EXPECT_EQ(scan_all(*store).size(), 4 * kRowsPerFlush);
}

TEST(StoreOrphans, OlderCheckpointOrphansOnlyTheNewerSegments) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  write_flushes(dir, 0, 2);
  const auto first_two = segment_files(dir);
  const fs::path old_checkpoint = tmp.path() / "CHECKPOINT.old";
  fs::copy_file(dir / "CHECKPOINT", old_checkpoint);
  write_flushes(dir, 2, 2);
  const auto before = segment_files(dir);
  ASSERT_GT(before.size(), first_two.size());
  fs::copy_file(old_checkpoint, dir / "CHECKPOINT", fs::copy_options::overwrite_existing);

  {
    // Reopen, and write more: the new segments must not collide with the orphaned ones.
    auto store = open_store(options_for(dir));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->recovery().orphaned_segments, before.size() - first_two.size());
    EXPECT_EQ(scan_all(*store).size(), 2 * kRowsPerFlush);
    const auto more = make_sessions(100'000, kRowsPerFlush, kT0 + 10 * 7'200'000LL, kStepMs);
    ASSERT_TRUE(store->append(more).has_value());
    ASSERT_TRUE(store->close().has_value());
  }
  std::set<std::string> orphaned;
  expect_all_kept(dir, before, &orphaned);
  for (const auto& [rel, size] : before) {
    EXPECT_EQ(orphaned.contains(rel), !first_two.contains(rel)) << rel;
  }

  auto check = run_flowscope({"store", "check", "-d", dir.string()});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  auto repair = run_flowscope({"store", "repair", "-d", dir.string()});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_EQ(count_rows(dir), 5 * kRowsPerFlush);
  auto again = run_flowscope({"store", "check", "-d", dir.string()});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
}

TEST(StoreOrphans, StrayFileInASegmentDirectoryIsKept) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  write_flushes(dir, 0, 2);
  const auto before = segment_files(dir);
  const fs::path part = dir / fs::path(before.begin()->first).parent_path();
  { std::ofstream(part / "notes.txt") << "an operator's notes\n"; }
  {
    auto store = open_store(options_for(dir));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->recovery().orphaned_segments, 0u);
    ASSERT_TRUE(store->close().has_value());
  }
  EXPECT_TRUE(fs::exists(part / "notes.txt"));
  std::set<std::string> orphaned;
  expect_all_kept(dir, before, &orphaned);
  EXPECT_TRUE(orphaned.empty());
  EXPECT_EQ(count_rows(dir), 2 * kRowsPerFlush);

  auto check = run_flowscope({"store", "check", "-d", dir.string()});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE(check.out.find("notes.txt"), std::string::npos) << check.out;
  auto repair = run_flowscope({"store", "repair", "-d", dir.string()});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  // Not store data: moved aside, never deleted.
  EXPECT_TRUE(fs::exists(dir / "orphans" / fs::relative(part / "notes.txt", dir)));
  auto again = run_flowscope({"store", "check", "-d", dir.string()});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(count_rows(dir), 2 * kRowsPerFlush);
}

TEST(StoreOrphans, CheckOfAConsistentStoreExitsZero) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  write_flushes(dir, 0, 3);
  auto check = run_flowscope({"store", "check", "-d", dir.string()});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("consistent"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find(fmt::format("{} rows", 3 * kRowsPerFlush)), std::string::npos)
      << check.out;
}

TEST(StoreOrphans, CheckReportsADamagedSegment) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  write_flushes(dir, 0, 2);
  const auto files = segment_files(dir);
  const fs::path victim = dir / files.begin()->first;
  fs::resize_file(victim, fs::file_size(victim) - 10);
  auto check = run_flowscope({"store", "check", "-d", dir.string()});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE(check.out.find(files.begin()->first), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("damaged"), std::string::npos) << check.out;
}

TEST(StoreOrphans, RepairRefusesWhileAWriterHoldsTheStore) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  write_flushes(dir, 0, 1);
  ASSERT_TRUE(fs::remove(dir / "CHECKPOINT"));
  auto store = open_store(options_for(dir));  // holds LOCK, as `flowscope serve` does
  ASSERT_NE(store, nullptr);
  const auto before = segment_files(dir);
  auto repair = run_flowscope({"store", "repair", "-d", dir.string()});
  EXPECT_EQ(repair.exit_code, 1) << repair.out << repair.err;
  EXPECT_NE(repair.err.find("another flowscope process"), std::string::npos) << repair.err;
  EXPECT_EQ(segment_files(dir), before);  // nothing moved
}

}  // namespace
}  // namespace flowscope::store
