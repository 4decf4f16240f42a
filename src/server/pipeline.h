#pragma once
// Pipeline: the consumer side of `flowscope serve`. One thread takes FlowBatches from the queue
// the receive workers fill, stitches them into sessions (session/stitcher.h), enriches the
// sessions (enrich/enricher.h) and appends them to the store (store::Backend), at the latest
// every commit_interval so that a newcomer sees sessions within seconds.
//
// Record time drives the stitcher; while no records arrive, the clock is extrapolated from the
// last record time by the wall time since (so replays of old captures still close their idle
// sessions, without the wall clock closing sessions of a replay between two batches).
//
// Threads: start/stop/set_stitch from the control thread; stats() from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "enrich/enricher.h"
#include "server/udp_ingest.h"
#include "session/stitcher.h"
#include "store/backend.h"

namespace flowscope::server {

struct PipelineStats {
  std::uint64_t flows = 0;            // records taken from the queue
  std::uint64_t sessions = 0;         // sessions appended to the store
  std::uint64_t sessions_closed = 0;  // sessions the stitcher closed (stored or about to be)
  std::uint64_t appends = 0;          // store appends
  std::uint64_t store_errors = 0;     // appends that failed (sessions lost, logged)
  std::uint64_t sessions_lost = 0;    // sessions of failed appends
  std::uint64_t open_sessions = 0;    // in the stitch window now
  std::uint64_t stitch_memory = 0;    // bytes
  std::int64_t window_ms = 0;
  std::uint64_t closed_capacity = 0;  // sessions closed early: window full
  std::uint64_t records_no_address = 0;
  std::uint64_t duplicates_dropped = 0;
  std::uint64_t enrich_group_hits = 0;
  std::uint64_t enrich_geo_hits = 0;
  bool running = false;
};

class Pipeline {
 public:
  Pipeline(FlowQueue& queue, store::Backend& backend, enrich::EnrichSources sources,
           const StitchConfig& stitch, DurationMs commit_interval);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void start();
  // Drains the queue (REQUIRES: its producers stopped and it is closed), closes every open
  // session and appends them: nothing received is lost on SIGTERM.
  void stop();
  // Applies a new stitch configuration from the next batch on: the open sessions are closed
  // and stored first (a window change cannot reinterpret them).
  void set_stitch(const StitchConfig& stitch);

  PipelineStats stats() const;
  // Sessions appended so far (for tests waiting on ingest).
  std::uint64_t sessions_stored() const { return sessions_stored_.load(); }

 private:
  void run();
  void commit(SessionBatch& sessions);
  session::StitcherConfig stitcher_config(const StitchConfig& c) const;

  FlowQueue& queue_;
  store::Backend& backend_;
  enrich::Enricher enricher_;
  DurationMs commit_interval_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sessions_stored_{0};

  mutable std::mutex mutex_;
  std::unique_ptr<session::Stitcher> stitcher_;   // guarded by mutex_ (stats readers)
  std::unique_ptr<StitchConfig> pending_stitch_;  // guarded by mutex_
  std::int64_t window_ms_ = 0;                    // guarded by mutex_
  PipelineStats counters_;                        // guarded by mutex_
  std::uint64_t next_session_id_ = 1;             // pipeline thread
  std::uint64_t closed_before_ = 0;  // guarded by mutex_: sessions of earlier stitchers
};

}  // namespace flowscope::server
