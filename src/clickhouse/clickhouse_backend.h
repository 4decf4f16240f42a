#pragma once
// store::Backend over a ClickHouse cluster (issue 20, docs/scale-out.md): the same commands
// and the same answers as the embedded store, on one or more ClickHouse servers.
//
// Writes: append() shards each row by a hash of its session key (client-side sharding) and
// buffers it as RowBinary per (shard, day); a flush (batch_rows rows pending, or
// flush_interval since the oldest pending row, or flush()) inserts one block per (shard, day)
// into that shard's local MergeTree table. A shard that refuses or times out keeps its blocks:
// they go to its bounded on-disk spill queue (spill_queue.h) and are replayed in order when it
// answers; every block after a spilled one is queued behind it. Before a queued block is
// inserted, the shard is asked whether its rows (its _seq range in its day) are already there
// (an insert whose answer was lost), so nothing is inserted twice. durable_sequence() reaches
// a batch once all its rows are in ClickHouse or in a spill file.
//
// Reads: through the Distributed table (the local one with one shard), with the time window
// and the scan predicates as SQL WHERE; scans return rows in the embedded store's order (hour
// of start_time, then arrival). Aggregations run in ClickHouse (GROUP BY, sum, count) and come
// back as pre-grouped rows the query engine merges like rollup rows.
//
// Retention: drop_before() drops whole day partitions on every shard (never mutations).
//
// Threads: append, flush, replay, drop_before and stats take the writer mutex (the background
// flusher, when on, is a second writer); scan and aggregate run on any number of threads
// without it (each opens its own HTTP connections).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/schema.h"
#include "clickhouse/shard_client.h"
#include "clickhouse/spill_queue.h"
#include "clickhouse/sql_pushdown.h"
#include "store/backend.h"
#include "store/embedded_store.h"
#include "store/ranked_aggregation.h"

namespace flowscope::clickhouse {

struct ClickHouseOptions {
  std::vector<Endpoint> shards;  // HTTP endpoints; shard i of the cluster is shards[i]
  TableNames tables;
  std::size_t batch_rows = 100000;  // rows pending before a flush (at most 1,000,000)
  std::chrono::milliseconds flush_interval{5000};
  std::filesystem::path spill_dir;  // per shard DIR/shard-N; empty: no spilling (errors instead)
  std::uint64_t spill_max_bytes = std::uint64_t{1} << 30;  // per shard
  std::chrono::milliseconds retry_interval{2000};  // a failed shard is not tried before this
  bool create_schema = true;                       // create or migrate tables at open
  // A thread that flushes every flush_interval, so rows do not wait for the next append and
  // durable_sequence() advances when ingest pauses (flowscope serve).
  bool background_flush = false;
  // Rollup views to keep in the cluster besides those it keeps already (the store's rollup
  // configuration, store/store_config.h): created on every shard at open with their tables
  // per level, fed from then on by the flows table's inserts, and filled with what it holds.
  std::vector<store::RollupView> rollups;
  // Retention per level (raw, 1m, 1h, 1d) in ms for apply_retention(); 0 keeps forever. With
  // background_flush and some level kept, the flusher applies it every retention_interval
  // (the first time right after open), by the system clock: what `flowscope serve` schedules.
  std::array<std::int64_t, 4> keep_ms{};
  std::chrono::milliseconds retention_interval{3'600'000};
};

// "clickhouse://[user[:password]@]host[:port][,host[:port]...][/database][?key=value&...]"
// with keys cluster, batch_rows, flush_ms, spill_dir, spill_max_mb, timeout_ms. Errors name
// the part that is wrong.
Result<ClickHouseOptions> parse_clickhouse_url(std::string_view url);
bool is_clickhouse_url(std::string_view text);

class ClickHouseBackend final : public store::Backend, public store::RankedAggregation {
 public:
  // Connects to every shard, creates or migrates the schema there (create_schema), opens the
  // spill queues and continues the row sequence after what the shards and queues hold.
  static Result<std::unique_ptr<ClickHouseBackend>> open(ClickHouseOptions options);
  ~ClickHouseBackend() override;
  ClickHouseBackend(const ClickHouseBackend&) = delete;
  ClickHouseBackend& operator=(const ClickHouseBackend&) = delete;

  Result<std::uint64_t> append(const SessionBatch& batch) override;
  std::uint64_t durable_sequence() const override { return durable_.load(); }
  Result<store::ScanStats> scan(const store::ScanRequest& request,
                                const store::ScanSink& sink) const override;
  Result<store::AggregateResult> aggregate(const store::AggregateRequest& request) const override;
  bool applies_filter(const store::ScanRequest& request) const override;
  bool aggregates_natively(const store::AggregateRequest& request) const override;
  // A statistic's top N as ORDER BY ... LIMIT N on the rows aggregate() would group (a rollup
  // or the flows table), the totals from a second aggregate over the same rows
  // (docs/scale-out.md "Reads"); nullopt with buckets or without group keys.
  std::optional<Result<store::TopGroups>> aggregate_top(
      const store::AggregateRequest& request, const store::TopRequest& top) const override;
  store::AggregatePlan plan_aggregate(const store::AggregateRequest& request) const override;
  Result<store::ScanStats> scan_aggregate_rows(const store::AggregateRequest& request,
                                               const store::AggregatePlan& plan, unsigned workers,
                                               const store::WorkerScanSink& sink,
                                               store::AggregatePlan* followed) const override;
  // Drops raw day partitions (the rollups keep theirs, as the embedded store's do).
  Result<std::size_t> drop_before(std::int64_t cutoff_ms) override;
  // Drops the day partitions of every view's rollup level `bucket_ms` that end at or before
  // `cutoff_ms`, on every shard; returns how many (day, table) pairs went.
  Result<std::size_t> drop_rollups_before(std::int64_t bucket_ms, std::int64_t cutoff_ms);
  // options.keep_ms applied to every level relative to `now_ms` (EmbeddedStore's rule).
  Result<std::size_t> apply_retention(std::int64_t now_ms);
  // Rolled-up rows from elsewhere (`store copy` of the days only a source's rollups keep):
  // `rows` as a rollup level scan gives them (the view's keys, start_time = the bucket,
  // sessions and the rollup sums) into the table of `view` at level `bucket_ms` on the first
  // shard, through a staging table with the flows table's columns and the rollup feed's SELECT
  // (clickhouse/rollup_schema.h), so they are rolled up as ingest would have.
  Result<void> insert_rollup_rows(const store::RollupView& view, std::int64_t bucket_ms,
                                  const SessionBatch& rows);
  // The rollup views this cluster keeps (read from its flowscope_rollups table at open).
  const std::vector<store::RollupView>& rollup_views() const { return views_; }

  // Inserts (or spills) every pending row and replays the spill queues of shards due for a
  // retry. Fails only when rows could be neither inserted nor spilled (no spill_dir, or a
  // full queue): those rows stay pending and are tried again.
  Result<void> flush();
  // Replays spilled blocks in order on every shard that answers (ignoring retry_interval);
  // returns how many blocks went in. Stops at a shard's first failure.
  Result<std::size_t> replay();

  struct Stats {
    std::uint64_t rows_appended = 0;
    std::uint64_t rows_inserted = 0;
    std::uint64_t blocks_inserted = 0;
    std::uint64_t blocks_spilled = 0;
    std::uint64_t blocks_replayed = 0;
    std::uint64_t blocks_already_present = 0;  // replay found the rows in (lost answer)
    std::uint64_t rows_pending = 0;
    std::uint64_t rows_spilled_now = 0;  // rows in the spill queues
    std::uint64_t blocks_spilled_now = 0;
    // Per shard, in shard order.
    std::vector<std::uint64_t> insert_errors;  // inserts (and replays) the shard refused
    std::vector<std::uint64_t> shard_rows_inserted;
    std::uint64_t retention_runs = 0;
    std::uint64_t partitions_dropped = 0;  // by retention (drop_before, apply_retention)
  };
  Stats stats() const;
  // Rows in the cluster (through the read table), or on one shard's local table.
  Result<std::uint64_t> count_rows() const;
  Result<std::uint64_t> count_shard_rows(std::size_t shard) const;
  const ClickHouseOptions& options() const { return options_; }
  // The shard a row goes to: a hash of (client, server, ports, protocol).
  std::size_t shard_of(const SessionBatch& batch, std::size_t row) const;

 private:
  struct Pending {
    std::string data;
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = 0;
    std::uint64_t rows = 0;
  };
  struct Shard {
    ShardClient client;
    std::optional<SpillQueue> spill;
    std::map<std::int64_t, Pending> pending;  // by day
    std::chrono::steady_clock::time_point retry_after{};
  };
  explicit ClickHouseBackend(ClickHouseOptions options);
  Result<void> init_shard(Shard& shard);
  // Refuses a shard whose tables were written with another field list (schema.h
  // field_layout); records this one's where none is kept yet and `create` allows it.
  // Growth (`create` only): where the kept list is the start of this one, the new fields are
  // added as columns (ALTER TABLE ADD COLUMN on the flows and Distributed tables) and the kept
  // list replaced; removal or reordering is refused with the fix named.
  Result<void> check_layout(Shard& shard, bool create);
  Result<void> grow_layout(Shard& shard, std::size_t old_count);
  // Creates the views of options_.rollups the cluster does not keep yet; fills views_.
  Result<void> init_rollups();
  // The ClickHouse query that answers `plan` for `request` and how its columns decode.
  // Returns the result body; `query` receives the query (its items decode the body).
  Result<std::string> run_group_query(const store::AggregateRequest& request,
                                      const store::AggregatePlan& plan, GroupQuery& query,
                                      const store::TopRequest* top = nullptr,
                                      std::string* totals = nullptr) const;
  // The plan aggregate() follows: plan_aggregate's when this cluster answers it, else a
  // GROUP BY on the flows table.
  store::AggregatePlan answering_plan(const store::AggregateRequest& request) const;
  // The groups of a group_query result `body` (FORMAT RowBinary) as aggregate() returns them.
  Result<store::AggregateResult> decode_groups(const store::AggregateRequest& request,
                                               const store::AggregatePlan& plan,
                                               const GroupQuery& q, const std::string& body) const;
  Result<std::size_t> drop_days(const std::vector<std::string>& tables, std::int64_t cutoff_ms);
  // Whether every shard holds the rollup level of `view` for each raw day of the window.
  bool answers_plan(const store::AggregatePlan& plan) const;
  // Whether raw retention dropped days of the window that a rollup table still holds (a rollup
  // partition in the window older than every raw day left): as the embedded store's rule,
  // a rollup that answers is then taken whatever its row count (store/rollup_plan.h).
  bool raw_lacks_part(const store::ScanRequest& scan) const;
  bool rollup_complete(const store::RollupView& view, std::int64_t bucket_ms,
                       const store::ScanRequest& scan) const;
  // REQUIRES: write_mutex_ held.
  Result<void> flush_locked();
  void flush_loop();
  Result<void> seal_and_send();
  // Inserts or queues one block; false when it could be neither (block kept by the caller).
  Result<void> deliver(std::size_t shard, const SpillBlock& block);
  Result<std::size_t> drain(std::size_t shard, bool force);
  Result<std::uint64_t> count_block(const Shard& shard, const SpillBlock& block) const;
  const std::string& read_table() const { return read_table_; }
  Result<std::string> read_query(const std::string& sql) const;

  ClickHouseOptions options_;
  mutable std::mutex write_mutex_;  // the writer state below and the shards' queues
  std::vector<Shard> shards_;
  std::vector<store::RollupView> views_;
  std::vector<std::uint64_t> insert_errors_, shard_rows_;   // per shard, under write_mutex_
  std::chrono::steady_clock::time_point next_retention_{};  // the flusher's
  std::string read_table_;
  std::string insert_columns_;
  std::uint64_t next_row_ = 0;
  std::uint64_t batches_ = 0;
  std::atomic<std::uint64_t> durable_{0};
  std::uint64_t rows_pending_ = 0;
  std::chrono::steady_clock::time_point oldest_pending_{};
  Stats stats_;
  std::mutex flusher_mutex_;
  std::condition_variable flusher_wake_;
  bool flusher_stop_ = false;  // guarded by flusher_mutex_
  std::thread flusher_;
};

}  // namespace flowscope::clickhouse
