#pragma once
// Internal to flowscope_server: other modules use its public headers.
// Pipeline: the consumer side of `flowscope serve`, sharded (docs/conventions.md "Threads").
// Receive workers hand decoded FlowBatches to hand_over(); under one lock (which orders the log) it
// routes the rows over N shards by the normalized key's hash (session/shard_router.h), appends the
// batch to the raw-flow log (server/flow_wal.h: durable at receipt) and pushes each shard its share
// through a bounded SPSC queue (core/spsc_queue.h). Each shard thread owns a Stitcher, an Enricher
// and its sessions: stitch -> enrich -> store append (appends of all shards share one lock: the
// store has one writer at a time), at the latest every commit_interval.
//
// Back-pressure: a shard queue that is full makes hand_over() wait (counted), so a receive
// worker stops reading its socket and overload shows as kernel socket drops, before the log;
// what reached the log is never dropped (docs/serve.md "Back-pressure").
//
// Durability: start() replays the log into the shards (each from its last checkpoint: the
// sessions it held open and the seq it had consumed) and skips sessions the store already
// has (ids are log positions, so a replay gives a session the same id). Shards checkpoint every
// 2 s; a checkpoint is written only once the store's durable_sequence() covers every append
// made before it was taken. Then the log files below every shard's oldest open session (and
// its consumed seq) are deleted: the log stays about one stitch window plus one file long.
//
// Record time drives the stitchers; while no records arrive, the clock is extrapolated from the
// last record time by the wall time since (replays of old captures still close their sessions).
//
// Threads: start/stop/set_stitch from the control thread; hand_over from receive workers;
// stats() from any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "enrich/enricher.h"
#include "server/flow_wal.h"
#include "server/server_config.h"
#include "server/udp_ingest.h"
#include "session/shard_router.h"
#include "session/stitcher.h"
#include "store/backend.h"

namespace flowscope::server {

struct PipelineOptions {
  unsigned shards = 0;             // stitch/enrich/store workers; 0 = one per core
  std::size_t queue_batches = 64;  // bound of each shard's queue, in batches
  DurationMs commit_interval{std::chrono::seconds(1)};
  // The raw-flow log's directory (DATADIR); empty: no log, nothing replayed (tests, tools).
  std::filesystem::path data_dir;
  DurationMs sync_interval{std::chrono::seconds(1)};
  DurationMs checkpoint_interval{std::chrono::seconds(2)};
  // The log starts a new file after this many bytes; trimming deletes whole files.
  std::uint64_t log_file_bytes = kFlowWalFileBytes;
  // A shard that received nothing for this long moves its record time on by the wall clock
  // (an exporter that went quiet still has its sessions closed). Tests that pace a feed by
  // the pipeline's progress rather than by the clock set it long.
  DurationMs idle_after{100};
};

struct PipelineStats {
  std::uint64_t flows = 0;            // records stitched
  std::uint64_t sessions = 0;         // sessions appended to the store
  std::uint64_t sessions_closed = 0;  // sessions the stitchers closed (stored or about to be)
  std::uint64_t appends = 0;          // store appends
  std::uint64_t store_errors = 0;     // appends that failed (sessions lost, logged)
  std::uint64_t sessions_lost = 0;    // sessions of failed appends
  std::uint64_t open_sessions = 0;    // in the stitch windows now
  std::uint64_t stitch_memory = 0;    // bytes
  std::int64_t window_ms = 0;
  std::uint64_t closed_capacity = 0;  // sessions closed early: window full
  std::uint64_t records_no_address = 0;
  std::uint64_t duplicates_dropped = 0;
  std::uint64_t enrich_group_hits = 0;
  std::uint64_t enrich_geo_hits = 0;
  unsigned shards = 0;
  std::uint64_t queued_batches = 0;      // items waiting in the shard queues
  std::uint64_t backpressure_waits = 0;  // hand_over() found a shard queue full and waited
  std::uint64_t log_records = 0;         // raw-flow log: records and bytes written
  std::uint64_t log_bytes = 0;
  std::uint64_t log_errors = 0;      // appends that failed (those flows are not durable)
  std::uint64_t log_disk_bytes = 0;  // the log's files now (trimmed behind the checkpoints)
  std::uint64_t log_files_deleted = 0;
  std::uint64_t log_found_flows = 0;      // flows in the log's records at start
  std::uint64_t replayed_flows = 0;       // flows the start-up replay gave the stitchers
  std::uint64_t replayed_duplicates = 0;  // replayed sessions the store already had (skipped)
  std::uint64_t checkpoints = 0;
  std::uint64_t last_append = 0;  // store sequence of the last append (durable once the
                                  // store's durable_sequence() reaches it)
  bool running = false;
};

class Pipeline final : public FlowSink {
 public:
  Pipeline(store::Backend& backend, enrich::EnrichSources sources, const StitchConfig& stitch,
           PipelineOptions options);
  ~Pipeline() override;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Replays the raw-flow log (when configured), opens it for appends and starts the shards.
  Result<void> start();
  // Closes the queues (REQUIRES: the receive workers stopped), drains them, closes every open
  // session and appends them, writes final checkpoints: nothing received is lost on SIGTERM.
  void stop();
  // Applies a new stitch configuration from the next batch on: the open sessions are closed
  // and stored first (a window change cannot reinterpret them).
  void set_stitch(const StitchConfig& stitch);

  // FlowSink: takes `batch` (left empty). Thread-safe.
  void hand_over(unsigned worker, FlowBatch& batch) override;

  PipelineStats stats() const;
  // Sessions appended so far (for tests waiting on ingest).
  std::uint64_t sessions_stored() const { return sessions_stored_.load(); }
  unsigned shards() const { return static_cast<unsigned>(shards_.size()); }

 private:
  struct Item;
  struct Shard;
  void run(Shard& shard);
  void commit(Shard& shard, SessionBatch& sessions);
  void checkpoint(Shard& shard, bool final);
  Result<void> replay();
  session::StitcherConfig stitcher_config(const StitchConfig& c, std::size_t shard) const;

  store::Backend& backend_;
  enrich::EnrichSources sources_;
  PipelineOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<FlowWal> wal_;

  std::mutex dispatch_mutex_;                                   // orders log seqs and queue pushes
  std::vector<std::unique_ptr<session::ShardRouter>> routers_;  // guarded by dispatch_mutex_
  std::vector<session::ShardShare> shares_;                     // guarded by dispatch_mutex_
  std::uint64_t next_seq_ = 1;  // guarded by dispatch_mutex_ (without a log)
  std::mutex space_mutex_;
  std::condition_variable space_cv_;
  std::atomic<bool> producer_waiting_{false};
  std::atomic<std::uint64_t> backpressure_waits_{0};
  std::atomic<std::uint64_t> log_errors_{0};
  std::atomic<bool> closed_{false};

  std::mutex store_mutex_;  // one store writer at a time
  std::atomic<std::uint64_t> sessions_stored_{0};
  std::atomic<std::uint64_t> last_append_{0};  // store sequence of the last append (any shard)
  std::uint64_t log_found_flows_ = 0;          // set before the shards start
  std::uint64_t replayed_flows_ = 0;           // set before the shards start
  std::uint64_t replayed_duplicates_ = 0;      // set before the shards start
  std::atomic<std::uint64_t> checkpoints_{0};
  std::atomic<std::int64_t> window_ms_{0};  // written by every shard at a reload, read by stats()
};

}  // namespace flowscope::server
