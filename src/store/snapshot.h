#pragma once
// A consistent view of the store for readers (snapshot isolation, docs/storage.md
// "Concurrency"): the sealed segments of every level plus the raw rows not sealed yet (the
// in-memory tail, also in the WAL). The writer builds a new Snapshot for every change and swaps
// a shared_ptr under a mutex; a reader keeps the one it took for as long as it scans, so it sees
// whole batches only, and segments it reads stay mapped even if retention drops them meanwhile.
// Immutable once published: any thread.
// Internal to flowscope_store: other modules use its public headers.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/record_batch.h"
#include "store/backend.h"
#include "store/partition.h"
#include "store/segment.h"

namespace flowscope::store {

struct SegmentEntry {
  Level level = Level::Raw;
  std::string view;  // rollup view; "" for raw
  std::string partition;
  std::int64_t partition_begin = 0;
  std::shared_ptr<const Segment> segment;
};

struct BadSegment {
  std::filesystem::path path;
  Error error;  // names the file and what to do
};

struct Snapshot {
  std::vector<SegmentEntry> segments;  // by level, then partition, then file
  // Segments found at open that cannot be read; every scan reports them (each names its file).
  std::vector<BadSegment> bad_segments;
  std::vector<std::shared_ptr<const SessionBatch>> tail;
  std::uint64_t tail_rows = 0;
};

// Scans one level (and rollup view) of a snapshot; the tail belongs to raw.
Result<ScanStats> scan_snapshot(const Snapshot& snapshot, Level level, std::string_view view,
                                const ScanRequest& request, const ScanSink& sink);

// What a scan reads: the segments of one level and view, and (with_tail) the raw tail.
struct ScanSource {
  Level level = Level::Raw;
  std::string_view view;
  bool with_tail = true;
};

// The same scan with blocks shared out to `workers` threads (the caller's thread is worker 0):
// `sink` is called from every worker, with its number, never twice at once for one worker.
// With one worker, rows arrive in store order.
Result<ScanStats> scan_snapshot_parallel(const Snapshot& snapshot, const ScanSource& source,
                                         const ScanRequest& request, unsigned workers,
                                         const WorkerScanSink& sink);

}  // namespace flowscope::store
