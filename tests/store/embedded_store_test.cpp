#include "store/embedded_store.h"

#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include "store/batch_codec.h"

#include "store_test_support.h"

namespace flowscope::store {
namespace {

using testing::make_sessions;
using testing::scan_all;
using testing::TempDir;

constexpr std::int64_t kT0 = 1'764'000'000'000;  // 2025-11-24T16:00:00Z, an hour boundary

StoreOptions options_for(const TempDir& dir) {
  StoreOptions o;
  o.dir = dir.path();
  o.sync_interval = std::chrono::milliseconds(0);
  return o;
}

std::unique_ptr<EmbeddedStore> open_store(const StoreOptions& o) {
  auto s = EmbeddedStore::open(o);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

std::multiset<std::uint64_t> session_ids(const SessionBatch& b) {
  std::multiset<std::uint64_t> ids;
  for (std::size_t row = 0; row < b.size(); ++row) ids.insert(b.get<FieldId::SessionId>(row));
  return ids;
}

TEST(EmbeddedStore, EveryRegistryFieldSurvivesFlushAndReopen) {
  TempDir dir;
  SessionBatch batch;
  for (std::size_t row = 0; row < 20; ++row) {
    batch.add_row();
    if (row == 2) continue;  // a row with every column absent
    testing::fill_every_field(batch, row, row, kT0);
  }
  {
    auto store = open_store(options_for(dir));
    ASSERT_TRUE(store->append(batch).has_value());
    ASSERT_TRUE(store->close().has_value());
  }
  auto store = open_store(options_for(dir));
  EXPECT_TRUE(store->snapshot()->tail.empty());  // everything came back from segments
  SessionBatch back = scan_all(*store);
  ASSERT_EQ(back.size(), batch.size());
  // Rows come back grouped by partition; match them up by their full contents.
  std::vector<bool> used(back.size());
  for (std::size_t row = 0; row < batch.size(); ++row) {
    bool found = false;
    for (std::size_t b = 0; b < back.size() && !found; ++b) {
      if (!used[b] && testing::compare_rows(batch, row, back, b).empty()) used[b] = found = true;
    }
    EXPECT_TRUE(found) << "row " << row << " did not come back intact";
  }
}

TEST(EmbeddedStore, WalIsReplayedAfterACrash) {
  TempDir dir;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child appends and dies without closing: only the WAL has the rows.
    auto s = EmbeddedStore::open(options_for(dir));
    if (!s) _exit(2);
    for (int i = 0; i < 5; ++i) {
      if (!(*s)->append(make_sessions(static_cast<std::uint64_t>(i) * 100, 100, kT0))) _exit(3);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto store = open_store(options_for(dir));
  EXPECT_EQ(store->recovery().wal_records, 5u);
  EXPECT_EQ(store->recovery().wal_rows, 500u);
  auto ids = session_ids(scan_all(*store));
  ASSERT_EQ(ids.size(), 500u);
  EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), 500u);
  // After a flush the WAL is trimmed and a reopen reads the same rows from segments.
  ASSERT_TRUE(store->flush().has_value());
  store.reset();
  auto again = open_store(options_for(dir));
  EXPECT_EQ(again->recovery().wal_records, 0u);
  EXPECT_EQ(session_ids(scan_all(*again)), ids);
}

TEST(EmbeddedStore, SegmentsOfAFlushCutShortAreIgnoredAndRemoved) {
  TempDir dir;
  {
    auto store = open_store(options_for(dir));
    ASSERT_TRUE(store->append(make_sessions(0, 100, kT0)).has_value());
    ASSERT_TRUE(store->close().has_value());
  }
  // A flush of WAL file 2 (the one close() started) that wrote its segment but died before
  // its checkpoint (and a segment being written): their rows are still in wal/2, which a
  // flush trims only after its checkpoint, so recovery must not count them twice.
  const auto part = dir.path() / "raw" / "2025-11-24T16";
  ASSERT_TRUE(std::filesystem::exists(dir.path() / "wal" / "000000000002.wal"));
  std::filesystem::copy_file(part / "seg-000000000001.fsg", part / "seg-000000000002.fsg");
  std::ofstream(part / "seg-000000000010.fsg.tmp") << "partial";
  auto store = open_store(options_for(dir));
  EXPECT_EQ(store->recovery().incomplete_segments_removed, 2u);
  EXPECT_EQ(store->recovery().orphaned_segments, 0u);
  EXPECT_FALSE(std::filesystem::exists(part / "seg-000000000002.fsg"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "orphans"));
  EXPECT_EQ(scan_all(*store).size(), 100u);
}

TEST(EmbeddedStore, ScanAppliesTimeWindowPredicatesAndProjection) {
  TempDir dir;
  auto o = options_for(dir);
  o.block_rows = 1024;
  auto store = open_store(o);
  // 3 hours of sessions, one every second.
  ASSERT_TRUE(store->append(make_sessions(0, 3 * 3600, kT0, 1000)).has_value());
  ASSERT_TRUE(store->flush().has_value());
  ASSERT_TRUE(store->append(make_sessions(100000, 100, kT0 + 3600'000, 1000)).has_value());

  ScanRequest req;
  req.begin_ms = kT0 + 3600'000;
  req.end_ms = kT0 + 3600'000 + 60'000;  // one minute: 60 sealed rows + 60 tail rows
  req.columns = {FieldId::SessionId, FieldId::SrvPort};
  req.predicates = {ScanPredicate::equals<FieldId::SrvPort>(443)};
  ScanStats stats;
  SessionBatch rows = scan_all(*store, req, &stats);
  ASSERT_EQ(rows.size(), 40u);  // ids divisible by 3 have port 443
  for (std::size_t r = 0; r < rows.size(); ++r) {
    EXPECT_EQ(rows.get<FieldId::SrvPort>(r), 443);
    EXPECT_EQ(rows.get<FieldId::SessionId>(r) % 3, 0u);
    EXPECT_FALSE(rows.is_set(FieldId::ClnBytes, r));  // not projected
  }
  EXPECT_GT(stats.blocks_skipped, 0u);  // other hours and blocks pruned by zone maps
  EXPECT_LT(stats.rows_read, 3u * 3600);

  // A range on an address column.
  ScanRequest by_addr;
  by_addr.predicates = {ScanPredicate::equals<FieldId::SrvAddr>(IpAddress::v4(0xC0A80003))};
  {
    SessionBatch hits = scan_all(*store, by_addr);
    EXPECT_GT(hits.size(), 0u);
    for (std::size_t r = 0; r < hits.size(); ++r) {
      EXPECT_EQ(hits.get<FieldId::SessionId>(r) % 7, 3u);
    }
  }
  // Strings are not pushed down: the request is refused, not silently ignored.
  ScanRequest bad;
  bad.predicates = {{FieldId::Application, OrderKey::min(), OrderKey::max()}};
  auto r = store->scan(bad, [](const SessionBatch&) { return true; });
  EXPECT_FALSE(r.has_value());
}

void corrupt_middle(const std::filesystem::path& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 3));
  for (int i = 0; i < 16; ++i) f.put('\x77');
}

TEST(EmbeddedStore, DamagedSegmentsAreNamedAndTheRestStaysReadable) {
  TempDir dir;
  {
    auto store = open_store(options_for(dir));
    for (int hour = 0; hour < 3; ++hour) {
      ASSERT_TRUE(store
                      ->append(make_sessions(static_cast<std::uint64_t>(hour) * 10000, 5000,
                                             kT0 + hour * 3600'000, 500))
                      .has_value());
    }
    ASSERT_TRUE(store->close().has_value());
  }
  const auto raw = dir.path() / "raw";
  const auto seg_a = raw / "2025-11-24T16" / "seg-000000000001.fsg";
  const auto seg_b = raw / "2025-11-24T17" / "seg-000000000001.fsg";
  ASSERT_TRUE(std::filesystem::exists(seg_a));
  ASSERT_TRUE(std::filesystem::exists(seg_b));
  corrupt_middle(seg_a);
  // A half-written partition: its segment cut short, and a stray temporary file.
  std::filesystem::resize_file(seg_b, std::filesystem::file_size(seg_b) / 2);
  std::ofstream(raw / "2025-11-24T17" / "seg-000000000002.fsg.tmp") << "partial";

  auto store = open_store(options_for(dir));
  ASSERT_EQ(store->snapshot()->bad_segments.size(), 1u);
  EXPECT_NE(store->snapshot()->bad_segments[0].error.message.find(seg_b.string()),
            std::string::npos);
  ScanStats stats;
  auto ids = session_ids(scan_all(*store, {}, &stats));
  // Hour 2 is intact and whole; hour 0 may return blocks before the damaged one.
  for (std::uint64_t id = 20000; id < 25000; ++id) ASSERT_EQ(ids.count(id), 1u) << id;
  for (std::uint64_t id = 10000; id < 15000; ++id) ASSERT_EQ(ids.count(id), 0u) << id;
  ASSERT_EQ(stats.errors.size(), 2u);
  std::string all;
  for (const Error& e : stats.errors) all += e.message + "\n";
  EXPECT_NE(all.find(seg_a.string()), std::string::npos) << all;
  EXPECT_NE(all.find(seg_b.string()), std::string::npos) << all;
  EXPECT_NE(all.find("checksum"), std::string::npos) << all;
  // Nothing stored was changed by opening: the damaged files are still there for inspection.
  EXPECT_TRUE(std::filesystem::exists(seg_a));
  EXPECT_TRUE(std::filesystem::exists(seg_b));
}

TEST(EmbeddedStore, ReadersNeverSeeHalfABatchDuringIngest) {
  TempDir dir;
  auto o = options_for(dir);
  o.sync_interval = std::chrono::milliseconds(5);
  o.flush_rows = 2000;  // flushes (snapshot swaps of the tail into segments) happen during reads
  auto store = open_store(o);
  constexpr std::uint64_t kBatch = 100;
  constexpr std::uint64_t kBatches = 150;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> scans{0};
  auto reader = [&] {
    std::size_t last = 0;
    while (!done.load()) {
      std::map<std::uint64_t, std::uint64_t> per_batch;
      std::size_t rows = 0;
      auto r = store->scan({}, [&](const SessionBatch& b) {
        for (std::size_t i = 0; i < b.size(); ++i)
          ++per_batch[b.get<FieldId::SessionId>(i) / kBatch];
        rows += b.size();
        return true;
      });
      if (!r || rows < last) ++bad;
      for (const auto& [batch, count] : per_batch) bad += count != kBatch;
      last = rows;
      ++scans;
    }
  };
  std::thread r1(reader), r2(reader);
  for (std::uint64_t i = 0; i < kBatches; ++i) {
    ASSERT_TRUE(store
                    ->append(make_sessions(i * kBatch, kBatch,
                                           kT0 + static_cast<std::int64_t>(i) * 1000, 1))
                    .has_value());
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(scans.load(), 2);
  EXPECT_EQ(scan_all(*store).size(), kBatch * kBatches);
}

TEST(EmbeddedStore, RetentionDropsWholeOldPartitionsOnly) {
  TempDir dir;
  auto store = open_store(options_for(dir));
  for (int hour = 0; hour < 5; ++hour) {
    ASSERT_TRUE(store
                    ->append(make_sessions(static_cast<std::uint64_t>(hour) * 1000, 10,
                                           kT0 + hour * 3600'000, 1000))
                    .has_value());
  }
  ASSERT_TRUE(store->flush().has_value());
  ASSERT_EQ(store->partition_stats().size(), 5u);
  // Hours 0 and 1 end by the cutoff; hour 2 ends after it (the cutoff falls inside it).
  auto dropped = store->drop_before(kT0 + 2 * 3600'000 + 1);
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(*dropped, 2u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "raw" / "2025-11-24T16"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "raw" / "2025-11-24T18"));
  auto ids = session_ids(scan_all(*store));
  EXPECT_EQ(ids.size(), 30u);
  EXPECT_EQ(*ids.begin(), 2000u);
}

TEST(EmbeddedStore, OneWriterPerDirectoryButReadersMayOpen) {
  TempDir dir;
  auto writer = open_store(options_for(dir));
  ASSERT_TRUE(writer->append(make_sessions(1, 10, kT0)).has_value());
  auto second = EmbeddedStore::open(options_for(dir));
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("another flowscope process"), std::string::npos);
  auto o = options_for(dir);
  o.read_only = true;
  auto reader = open_store(o);
  EXPECT_EQ(scan_all(*reader).size(), 10u);  // the WAL as of opening
  EXPECT_FALSE(reader->append(make_sessions(1, 1, kT0)).has_value());
}

TEST(EmbeddedStore, MissingDirectoryIsAClearError) {
  StoreOptions o;
  o.dir = "/tmp/flowscope-no-such-store-dir";
  o.read_only = true;
  auto s = EmbeddedStore::open(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("/tmp/flowscope-no-such-store-dir"), std::string::npos);
  EXPECT_NE(s.error().message.find("-d"), std::string::npos);
}

TEST(EmbeddedStore, AggregateByScanGroupsSumsAndBuckets) {
  TempDir dir;
  auto store = open_store(options_for(dir));
  // 600 sessions, one every 10 s: 100 minutes; srv_port 443 for ids divisible by 3, else 53.
  SessionBatch in = make_sessions(0, 600, kT0, 10'000);
  ASSERT_TRUE(store->append(in).has_value());
  AggregateRequest req;
  req.group_by = {FieldId::SrvPort};
  req.sums = {FieldId::ClnBytes};
  req.bucket_ms = 3'600'000;
  auto agg = store->aggregate(req);
  ASSERT_TRUE(agg.has_value()) << agg.error().message;
  ASSERT_EQ(agg->keys.size(), 4u);  // 2 ports x 2 hours
  std::map<std::pair<std::uint16_t, std::int64_t>, std::pair<std::uint64_t, std::uint64_t>> want;
  for (std::size_t r = 0; r < in.size(); ++r) {
    auto& w =
        want[{in.get<FieldId::SrvPort>(r), in.get<FieldId::StartTime>(r) / 3'600'000 * 3'600'000}];
    w.first += in.get<FieldId::ClnBytes>(r);
    ++w.second;
  }
  for (std::size_t g = 0; g < agg->keys.size(); ++g) {
    auto key =
        std::make_pair(agg->keys.get<FieldId::SrvPort>(g), agg->keys.get<FieldId::StartTime>(g));
    ASSERT_TRUE(want.contains(key));
    EXPECT_EQ(agg->sums[g], want[key].first);
    EXPECT_EQ(agg->counts[g], want[key].second);
  }
  req.sums = {FieldId::Application};
  EXPECT_FALSE(store->aggregate(req).has_value());  // not a number
}

TEST(EmbeddedStore, ManySmallAppendsAreCoalescedInTheTail) {
  TempDir dir;
  auto store = open_store(options_for(dir));
  for (std::uint64_t i = 0; i < 10000; ++i) {
    ASSERT_TRUE(store->append(make_sessions(i, 1, kT0 + static_cast<std::int64_t>(i))).has_value());
  }
  // 10000 one-row batches, kept as a few batches of up to 4096 rows.
  EXPECT_LE(store->snapshot()->tail.size(), 3u);
  SessionBatch all = scan_all(*store);
  ASSERT_EQ(all.size(), 10000u);
  for (std::size_t r = 0; r < all.size(); ++r) ASSERT_EQ(all.get<FieldId::SessionId>(r), r);
}

TEST(EmbeddedStore, ReadOnlyOpenOfAForeignDirectoryIsRefused) {
  TempDir dir;
  StoreOptions o;
  o.dir = dir.path();
  o.read_only = true;
  auto s = EmbeddedStore::open(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("not a flowscope data directory"), std::string::npos);
}

TEST(EmbeddedStore, HostLookupsSkipBlocksByTheAddressIndex) {
  TempDir dir;
  auto o = options_for(dir);
  o.block_rows = 1024;
  auto store = open_store(o);
  // 32 blocks; block b holds clients 10.b.x.y spread so that every block's min/max range covers
  // most of the others' (zone maps cannot prune), but each address lives in one block only.
  SessionBatch batch = make_sessions(0, 32 * 1024, kT0, 10);
  for (std::size_t r = 0; r < batch.size(); ++r) {
    const auto b = static_cast<std::uint32_t>(r / 1024);
    const auto i = static_cast<std::uint32_t>(r % 1024);
    batch.set<FieldId::ClnAddr>(r, IpAddress::v4(0x0A000000u | (i << 8) | b));
  }
  ASSERT_TRUE(store->append(batch).has_value());
  ASSERT_TRUE(store->flush().has_value());
  const IpAddress host = IpAddress::v4(0x0A000000u | (77u << 8) | 5u);  // block 5, row 77
  ScanRequest req;
  req.predicates = {ScanPredicate::equals<FieldId::ClnAddr>(host)};
  ScanStats stats;
  SessionBatch hits = scan_all(*store, req, &stats);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits.get<FieldId::SessionId>(0), 5u * 1024 + 77);
  EXPECT_EQ(stats.blocks, 32u);
  // ~3% false positives: a few blocks at most are decoded besides the right one.
  EXPECT_GE(stats.blocks_skipped, 28u);
  // An address that is nowhere: (almost) every block skipped, nothing returned.
  req.predicates = {ScanPredicate::equals<FieldId::ClnAddr>(IpAddress::v4(0x0A00FFFFu))};
  EXPECT_EQ(scan_all(*store, req, &stats).size(), 0u);
  EXPECT_GE(stats.blocks_skipped, 29u);
}

TEST(EmbeddedStore, ReadOnlyOpensBesideAFlushingWriterSeeWholeBatches) {
  TempDir dir;
  auto o = options_for(dir);
  o.flush_rows = 500;  // a flush (checkpoint, WAL trim) every few appends
  auto writer = open_store(o);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> opens{0};
  std::thread reader([&] {
    auto ro = o;
    ro.read_only = true;
    std::size_t last = 0;
    while (!done.load()) {
      auto s = EmbeddedStore::open(ro);
      if (!s) {
        ++bad;
        continue;
      }
      const std::size_t rows = scan_all(**s).size();
      // Whole batches of 100, never fewer than a previous open saw.
      if (rows % 100 != 0 || rows < last) ++bad;
      last = rows;
      ++opens;
    }
  });
  for (std::uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        writer->append(make_sessions(i * 100, 100, kT0 + static_cast<std::int64_t>(i) * 100, 1))
            .has_value());
  }
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(opens.load(), 1);
}

}  // namespace
}  // namespace flowscope::store
