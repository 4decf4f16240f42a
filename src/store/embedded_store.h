#pragma once
// The embedded columnar store (F5, docs/storage.md): a data directory of time partitions holding
// immutable segments, a write-ahead log for what is not sealed yet, rollups at 1 minute, 1 hour
// and 1 day, and retention by whole partitions. Implements Backend.
//
// Write path: append() encodes the batch into one WAL record (write(2)), adds it to the
// in-memory tail and publishes a new snapshot. A sync thread fdatasyncs the WAL every
// sync_interval (0: every append syncs), so an append is durable within that interval;
// durable_sequence() says how far. When the tail reaches flush_rows, flush() seals it: one
// segment per partition (and per rollup view and level), then the CHECKPOINT file names the WAL
// file whose records are now in segments, then older WAL files are deleted. Recovery (open)
// deletes segments newer than the checkpoint whose WAL file is still there (a flush cut short;
// the WAL replays their rows), moves other segments newer than the checkpoint to orphans/ (a
// lost or older CHECKPOINT: never delete data nothing else accounts for) and replays the WAL,
// cutting a torn or damaged tail: every synced record is there exactly once.
//
// Threads: one writer thread calls append, flush, sync, drop_before, close; any number of threads
// call snapshot, scan, aggregate and the stats at the same time. One writer process per
// directory (a LOCK file, flock); read-only opens take no lock and see the WAL as of opening.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/backend.h"
#include "store/column_codec.h"
#include "store/snapshot.h"
#include "store/wal.h"

namespace flowscope::store {

using fs_path = std::filesystem::path;

// A rollup view: sessions grouped by `keys` and the time bucket of each level, with sums of
// client/server bytes and packets and the number of sessions (field `sessions`).
struct RollupView {
  std::string name;  // directory name: [a-z0-9_]+
  std::vector<FieldId> keys;
};

struct StoreOptions {
  std::filesystem::path dir;
  bool read_only = false;
  std::chrono::milliseconds sync_interval{1000};
  // The tail is sealed into segments at this many rows. It is the store's memory: about 480
  // bytes a row (every stored column at full width), so 200k rows (serve's default too) keep an
  // import near 270 MB where 1 M rows took 830 MB, and page faults on fresh memory cost more
  // CPU than the extra segments save (docs/storage.md).
  std::size_t flush_rows = 200'000;
  std::size_t block_rows = kDefaultBlockRows;
  ChunkOptions segment_chunk{Codec::Zstd, 1, false};
  ChunkOptions wal_chunk{Codec::Lz4, 0, true};
  std::vector<RollupView> rollups;
  // Retention per level (raw, 1m, 1h, 1d) in ms; 0 keeps forever. Used by apply_retention.
  std::array<std::int64_t, 4> keep_ms{};
  // Take rollups and retention left empty above from DATADIR/store.json (store_config.h).
  bool use_dir_config = true;
};

// What open found and did; for logs and `flowscope store stats`.
struct RecoveryReport {
  std::uint64_t wal_files = 0;
  std::uint64_t wal_records = 0;
  std::uint64_t wal_rows = 0;
  std::uint64_t wal_dropped_bytes = 0;  // torn or damaged tails that were cut
  std::uint64_t incomplete_segments_removed = 0;
  // Segments neither the checkpoint nor a WAL file accounts for: moved to DATADIR/orphans/
  // (writable opens) or skipped (read-only); `flowscope store repair` brings them back.
  std::uint64_t orphaned_segments = 0;
  std::vector<std::string> notes;  // one line per cut tail, naming the file
};

struct PartitionStats {
  Level level = Level::Raw;
  std::string view;  // rollup view, "" for raw
  std::string partition;
  std::uint64_t segments = 0;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  std::int64_t min_time = 0;
  std::int64_t max_time = 0;
};

class EmbeddedStore final : public Backend {
 public:
  // Opens or creates the store in options.dir and recovers it. Fails when the directory cannot
  // be used (naming it and the fix), another writer holds it, or the WAL has an unknown version.
  // Segments that cannot be read do not fail open: they are listed in the snapshot's
  // bad_segments and reported by every scan.
  static Result<std::unique_ptr<EmbeddedStore>> open(const StoreOptions& options);
  ~EmbeddedStore() override;
  EmbeddedStore(const EmbeddedStore&) = delete;
  EmbeddedStore& operator=(const EmbeddedStore&) = delete;

  Result<std::uint64_t> append(const SessionBatch& batch) override;
  std::uint64_t durable_sequence() const override { return durable_seq_.load(); }
  Result<ScanStats> scan(const ScanRequest& request, const ScanSink& sink) const override;
  Result<ScanStats> scan_parallel(const ScanRequest& request, unsigned workers,
                                  const WorkerScanSink& sink) const override;
  // Answered from the rollup level (of a view that covers the request exactly: keys,
  // predicates, sums, bucket-aligned window, and every sealed raw segment in the window has its
  // rollup) with the fewest rows to read, plus the raw tail, when that is fewer rows than the
  // raw sessions; otherwise by scanning raw sessions. `source` says which. Grouped by the
  // fixed-key aggregator when the keys have fixed widths.
  Result<AggregateResult> aggregate(const AggregateRequest& request) const override;
  // True when aggregate() would answer `request` from a rollup.
  bool aggregates_natively(const AggregateRequest& request) const override;
  AggregatePlan plan_aggregate(const AggregateRequest& request) const override;
  Result<ScanStats> scan_aggregate_rows(const AggregateRequest& request, const AggregatePlan& plan,
                                        unsigned workers, const WorkerScanSink& sink,
                                        AggregatePlan* followed) const override;
  Result<std::size_t> drop_before(std::int64_t cutoff_ms) override;

  // Makes every append so far durable now.
  Result<void> sync();
  // Seals the tail into segments (and rollups) and trims the WAL.
  Result<void> flush();
  // Flushes, stops the sync thread and releases the directory. Also done by the destructor
  // (which can only log a failure).
  Result<void> close();

  // Drops partitions of `level` that end at or before `cutoff_ms`.
  Result<std::size_t> drop_level_before(Level level, std::int64_t cutoff_ms);
  // Applies options.keep_ms to every level, relative to `now_ms`.
  Result<std::size_t> apply_retention(std::int64_t now_ms);

  // Scans one rollup view at one level (sealed data only).
  Result<ScanStats> scan_rollup(const std::string& view, Level level, const ScanRequest& request,
                                const ScanSink& sink) const;

  std::shared_ptr<const Snapshot> snapshot() const;
  std::vector<PartitionStats> partition_stats() const;
  const RecoveryReport& recovery() const { return recovery_; }
  std::uint64_t wal_bytes() const;
  const StoreOptions& options() const { return options_; }

 private:
  explicit EmbeddedStore(StoreOptions options) : options_(std::move(options)) {}
  Result<void> recover();
  Result<void> load_segments(Snapshot& snap);
  void orphan(const std::filesystem::path& file);
  Result<void> replay(Snapshot& snap);
  Result<void> start_wal(std::uint64_t number);
  void publish(std::shared_ptr<const Snapshot> snap);
  void sync_loop();
  Result<void> write_checkpoint_file(std::uint64_t wal_number);
  void raise_durable(std::uint64_t seq);
  Result<std::vector<SegmentEntry>> seal(const Snapshot& snap, std::uint64_t wal_number,
                                         std::vector<fs_path>& written);
  std::filesystem::path wal_path(std::uint64_t number) const;
  std::filesystem::path level_dir(Level level, const std::string& view) const;

  StoreOptions options_;
  int lock_fd_ = -1;
  RecoveryReport recovery_;
  bool closed_ = false;

  mutable std::mutex snap_mutex_;
  std::shared_ptr<const Snapshot> snap_;  // guarded by snap_mutex_

  // Writer thread only.
  std::uint64_t next_seq_ = 1;
  std::uint64_t checkpoint_wal_ = 0;      // WAL files up to this one are in segments
  std::uint64_t last_wal_number_ = 0;     // highest WAL file number found at open
  std::uint64_t max_segment_number_ = 0;  // highest segment number found at open

  std::mutex wal_mutex_;
  std::shared_ptr<WalWriter> wal_;  // guarded by wal_mutex_
  std::uint64_t appended_seq_ = 0;  // guarded by wal_mutex_: last sequence written to wal_
  std::atomic<std::uint64_t> durable_seq_{0};
  std::condition_variable sync_cv_;
  bool stop_sync_ = false;  // guarded by wal_mutex_
  std::thread sync_thread_;
};

}  // namespace flowscope::store
