#pragma once
// Backend: what the query engine (F6) asks of a session store, whether the embedded columnar
// store (store/embedded_store.h) or, later, ClickHouse. Append batches, scan with a time range,
// a column projection and predicate pushdown, aggregate with pushdown, enforce retention.
//
// Predicates pushed down are ranges on one column ([lo, hi] on its order key, format.h): the
// backend may use them to skip blocks (zone maps) and must apply them exactly, so rows it returns
// match every predicate. Richer filters (Ne, ORs, derived fields) are the query engine's; a
// backend that can apply them too (ClickHouse) gets the whole filter tree, the row order and the
// limit as well (ScanRequest::filter, order, limit).
// A row whose predicate column is absent does not match (as SQL's NULL).
//
// Threads: append and retention from one writer thread; scan and aggregate from any number of
// threads at the same time, each seeing one consistent snapshot (never half a batch);
// scan_parallel and scan_aggregate_rows may run the sink on threads of their own.

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/filter_expr.h"
#include "core/record_batch.h"
#include "core/result.h"
#include "store/format.h"

namespace flowscope::store {

// An inclusive range on one stored, ordered field.
struct ScanPredicate {
  FieldId field = FieldId::StartTime;
  OrderKey lo = OrderKey::min();
  OrderKey hi = OrderKey::max();

  template <FieldId F>
  static ScanPredicate equals(const field_value_t<F>& v) {
    return {F, order_key(v), order_key(v)};
  }
  template <FieldId F>
  static ScanPredicate between(const field_value_t<F>& lo, const field_value_t<F>& hi) {
    return {F, order_key(lo), order_key(hi)};
  }
};

// One key of a requested row order: absent values last either way, ties in scan order.
struct ScanOrder {
  FieldId field = FieldId::StartTime;  // stored, Sum or Diff field
  bool descending = false;
};

struct ScanRequest {
  // start_time in [begin_ms, end_ms). The defaults (unbounded) also return rows without a
  // start_time; a bounded window does not.
  std::int64_t begin_ms = std::numeric_limits<std::int64_t>::min();
  std::int64_t end_ms = std::numeric_limits<std::int64_t>::max();
  // Columns to fill; empty means every stored field. Others read as absent.
  std::vector<FieldId> columns;
  // ANDed.
  std::vector<ScanPredicate> predicates;
  // The whole filter when `predicates` are not all of it (ORs, negations, derived fields...),
  // for a backend that can apply it itself; it also holds the predicates. A backend may return
  // only the rows that match it or ignore it: the query engine tests every row it gets again.
  std::shared_ptr<const FilterExpr> filter;
  // What the caller keeps: the first `limit` (0: all) of the matching rows, in `order` (empty:
  // scan order). A backend that applies every condition (predicates and filter) may return only
  // those, in that order; others return every match in scan order and the engine sorts and cuts.
  std::vector<ScanOrder> order;
  std::uint64_t limit = 0;

  bool time_bounded() const {
    return begin_ms != std::numeric_limits<std::int64_t>::min() ||
           end_ms != std::numeric_limits<std::int64_t>::max();
  }
};

struct ScanStats {
  std::uint64_t segments = 0;
  std::uint64_t blocks = 0;
  std::uint64_t blocks_skipped = 0;  // by partition pruning and zone maps
  std::uint64_t rows_read = 0;       // rows of the blocks that were decoded
  std::uint64_t rows_returned = 0;
  // Segments that could not be read (corrupt, unreadable); the scan went on without them.
  // Each message names the file.
  std::vector<Error> errors;
};

// Receives batches of matching rows; returns false to stop the scan. The batch is valid only
// during the call.
using ScanSink = std::function<bool(const SessionBatch&)>;
// The same for a scan shared out to worker threads: `worker` in [0, workers). Called from every
// worker, never twice at once for the same worker; returning false stops every worker.
using WorkerScanSink = std::function<bool(unsigned worker, const SessionBatch&)>;

struct AggregateRequest {
  ScanRequest scan;
  std::vector<FieldId> group_by;  // stored fields; may be empty (one group)
  std::vector<FieldId> sums;      // stored integer fields
  std::int64_t bucket_ms = 0;     // > 0: also group by start_time rounded down to this
};

struct AggregateResult {
  // One row per group: the group_by columns and, with buckets, start_time = the bucket.
  SessionBatch keys;
  std::vector<std::uint64_t> sums;    // row-major, sums.size() == rows * request.sums.size()
  std::vector<std::uint64_t> counts;  // sessions per group
  ScanStats stats;
  std::string source;  // what answered: "raw", or "rollup <view> <level> + raw tail"
};

// Which rows would answer an AggregateRequest, chosen by cost (rows to read).
struct AggregatePlan {
  std::string view;            // the rollup view; empty: raw sessions
  std::uint64_t level_ms = 0;  // its bucket (60000, 3600000, 86400000)
  std::uint64_t rows = 0;      // rows the plan reads (before zone maps), raw tail included
  std::uint64_t raw_rows = 0;  // rows a raw scan would read
  std::string source;  // as AggregateResult::source: "raw" or "rollup <view> <level> + raw tail"
  bool from_rollup() const { return !view.empty(); }
  static AggregatePlan raw(std::uint64_t rows = 0) {
    AggregatePlan p;
    p.rows = p.raw_rows = rows;
    p.source = "raw";
    return p;
  }
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Stores the batch; returns its sequence number. Durable once durable_sequence() reaches it.
  virtual Result<std::uint64_t> append(const SessionBatch& batch) = 0;
  virtual std::uint64_t durable_sequence() const = 0;

  // Fails only when the request is invalid; unreadable segments are reported in the stats.
  virtual Result<ScanStats> scan(const ScanRequest& request, const ScanSink& sink) const = 0;

  // The first, straightforward implementation scans and groups in memory; backends override it
  // to answer from rollups or in the database.
  virtual Result<AggregateResult> aggregate(const AggregateRequest& request) const;
  // Whether aggregate() would answer `request` without reading every raw row in its window
  // (from rollups, or in a database), so that callers with a faster scan of their own know
  // when to prefer aggregate(). The default aggregate() scans: false.
  virtual bool aggregates_natively(const AggregateRequest& request) const {
    (void)request;
    return false;
  }

  // Whether scan() and the aggregations apply request.filter exactly themselves, so that an
  // aggregation with that filter may run in the backend (ClickHouse). The default: false, the
  // query engine filters the rows it gets.
  virtual bool applies_filter(const ScanRequest& request) const {
    (void)request;
    return false;
  }

  // scan() with the blocks shared out to up to `workers` threads. The default scans on the
  // caller's thread as worker 0.
  virtual Result<ScanStats> scan_parallel(const ScanRequest& request, unsigned workers,
                                          const WorkerScanSink& sink) const {
    (void)workers;
    return scan(request, [&](const SessionBatch& b) { return sink(0, b); });
  }

  // The cheapest rows that answer `request` exactly: a rollup view's rows (each weighing its
  // `sessions`, keys and start_time = bucket start), or raw sessions. The default: raw.
  virtual AggregatePlan plan_aggregate(const AggregateRequest& request) const {
    (void)request;
    return AggregatePlan::raw();
  }
  // Scans the rows of `plan` (projection and predicates from request.scan), for callers that
  // group them with an aggregator of their own; returns the plan that was followed (raw when
  // the rollup no longer answers, e.g. retention dropped it since plan_aggregate).
  virtual Result<ScanStats> scan_aggregate_rows(const AggregateRequest& request,
                                                const AggregatePlan& plan, unsigned workers,
                                                const WorkerScanSink& sink,
                                                AggregatePlan* followed) const {
    (void)plan;
    if (followed != nullptr) *followed = AggregatePlan::raw();
    return scan_parallel(request.scan, workers, sink);
  }

  // Drops whole raw partitions that end at or before `cutoff_ms`; returns how many.
  virtual Result<std::size_t> drop_before(std::int64_t cutoff_ms) = 0;
};

// Groups and sums rows in memory: what aggregate_by_scan does with a scan, and what a backend
// does with rollup rows (which weigh their `sessions`). One aggregation, one thread.
class Aggregator {
 public:
  // Fails when a group_by field is not stored or a sum field not a stored number.
  static Result<Aggregator> create(const AggregateRequest& request);
  // The columns a scan must fill for add().
  std::vector<FieldId> scan_columns() const;
  void add(const SessionBatch& batch);
  AggregateResult finish(ScanStats stats) &&;

 private:
  Aggregator() = default;
  AggregateRequest request_;
  AggregateResult result_;
  std::unordered_map<std::string, std::uint32_t> index_;
  std::string key_;
};

// The in-memory grouping behind Backend::aggregate, for backends without a faster path.
Result<AggregateResult> aggregate_by_scan(const Backend& backend, const AggregateRequest& request);

}  // namespace flowscope::store
