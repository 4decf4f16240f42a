#pragma once
// Stitcher: turns one-way flow records (FlowBatch, from any exporter) into two-way sessions
// (SessionBatch). Records of the two directions of a 5-tuple (plus VLANs) meet in a window of
// open sessions; a session closes when it has been idle for `window` of record time, when it is
// evicted to make room, or at flush(). Rules and counters: docs/sessions.md.
//
// Hot path: no allocation per record. Open sessions live in a slab of fixed-size entries
// (doubling from 1024 up to max_open, then fixed), found through an open-addressing index (linear
// probing, backward-shift deletion) keyed by the normalized 5-tuple, and expired in order through a
// ring of (entry, touch time). Output rows are appended to the caller's SessionBatch, which grows
// only past its capacity.
//
// Not thread-safe: one Stitcher per worker, records sharded by the normalized key's hash
// (StitcherShard below) so that both directions of a session meet in the same worker
// (docs/conventions.md "Threads").

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/client_rule.h"
#include "core/ip_address.h"
#include "core/record_batch.h"
#include "core/service_ports.h"
#include "core/time.h"

namespace flowscope::session {

struct ExporterRule {
  IpAddress exporter;
  // Sampling interval to use instead of the records' own (0 = keep the records').
  std::uint32_t sampling = 0;
};

struct StitcherConfig {
  // A session closes after this much record time without a record for it.
  DurationMs window{std::chrono::seconds(60)};
  // Bound of the window's memory; when full, the least recently touched session is closed.
  std::size_t max_open = 1u << 20;
  // Exporters in order of precedence for a flow that several routers export: the first listed
  // wins. Unlisted exporters come after listed ones; among them the first to report a
  // direction of a session keeps it.
  std::vector<IpAddress> exporter_precedence;
  // Per-exporter sampling overrides.
  std::vector<ExporterRule> exporter_rules;
  ServicePorts services = ServicePorts::well_known();
  // First session_id handed out; ids increase by `session_id_stride` per session (shard k of
  // N: first k + 1, stride N, so that shards never hand out the same id). Unused for sessions
  // whose records came with positions (RowSelection::position_base).
  std::uint64_t first_session_id = 1;
  std::uint64_t session_id_stride = 1;
};

// The rows of a batch that one shard's Stitcher takes (ShardRouter, session/shard_router.h).
struct RowSelection {
  std::span<const std::uint32_t> rows;  // ascending row indexes
  // Per selected row: the record-time watermark of the whole stream up to that row (the
  // router's running maximum), so that each shard closes idle sessions exactly when one
  // Stitcher over the whole stream would. Empty: the rows' own times.
  std::span<const std::int64_t> watermarks;
  // Row r's position in the raw-flow log is position_base + r (0: no positions). A session
  // whose records have positions gets the position of its first record as session_id: the
  // same id when a replay of the log stitches it again (server/flow_wal.h).
  std::uint64_t position_base = 0;
};

// An open session, for checkpoints: the hash of its normalized key (session_shard_hash) and
// the log position of its first record.
struct OpenSession {
  std::uint64_t key_hash = 0;
  std::uint64_t first_position = 0;
};

// Counters; "records_*" count input rows, "sessions_*" output rows, "closed_*" why.
struct StitchStats {
  std::uint64_t records = 0;
  std::uint64_t records_no_address = 0;   // dropped: no source or destination address
  std::uint64_t records_merged = 0;       // added to a direction already open (same exporter)
  std::uint64_t duplicates_dropped = 0;   // a lower-precedence exporter's copy of a direction
  std::uint64_t duplicates_replaced = 0;  // a higher-precedence exporter took a direction over
  std::uint64_t sessions = 0;
  std::uint64_t sessions_two_sided = 0;
  std::uint64_t sessions_one_sided = 0;
  std::uint64_t closed_idle = 0;           // idle for a window
  std::uint64_t closed_capacity = 0;       // evicted: max_open reached
  std::uint64_t closed_flush = 0;          // flush() (end of input, shutdown)
  std::uint64_t client_by_reason[7] = {};  // indexed by ClientReason
  std::uint64_t carried_text_dropped = 0;  // text values not carried: string table full
};

class Stitcher {
 public:
  explicit Stitcher(StitcherConfig config);
  ~Stitcher();
  Stitcher(const Stitcher&) = delete;
  Stitcher& operator=(const Stitcher&) = delete;

  // Adds every record of `flows`; sessions that close meanwhile are appended to `out`.
  // `now` stands in for record time when a record carries none (and advances the clock).
  void add(const FlowBatch& flows, SessionBatch& out, TimeMs now = TimeMs{});
  // Adds the selected rows of `flows` only (a shard's share of a batch).
  void add(const FlowBatch& flows, const RowSelection& selection, SessionBatch& out,
           TimeMs now = TimeMs{});
  // Moves record time to `now` without records and closes the sessions idle for a window.
  void advance(TimeMs now, SessionBatch& out);
  // Closes every open session.
  void flush(SessionBatch& out);

  const StitchStats& stats() const { return stats_; }
  std::size_t open_sessions() const;
  // Memory held per open-session slot (entry, index share, expiry ring share), for sizing.
  static std::size_t bytes_per_slot();
  std::size_t memory_bytes() const;
  // Appends every open session (for checkpoints); O(open sessions).
  void open_sessions(std::vector<OpenSession>& out) const;
  // The record-time watermark (ms).
  std::int64_t watermark() const;

 private:
  struct Impl;
  void emit_entry(std::uint32_t entry, SessionBatch& out);
  void close(std::uint32_t entry, SessionBatch& out);
  void expire(SessionBatch& out, bool all);
  void evict_one(SessionBatch& out);
  void add_rows(const FlowBatch& flows, const RowSelection* selection, SessionBatch& out,
                TimeMs now);

  std::unique_ptr<Impl> impl_;
  StitchStats stats_;
};

// A normalized-key hash of a record, for sharding records over several Stitchers: both
// directions of a session get the same value.
std::uint64_t session_shard_hash(const FlowBatch& flows, std::size_t row);

}  // namespace flowscope::session
