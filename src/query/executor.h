#pragma once
// Running queries against a store::Backend (docs/query.md "Execution"): raw sessions
// (execute_query, streamed to a sink) and statistics (execute_stat). The filter is parsed,
// compiled (query/compiled_filter.h), its ranges pushed into the scan; statistics go to
// Backend::aggregate (rollups in the embedded store) when the filter is all pushed down, and
// otherwise scan, filter column-wise and group in memory. Both paths give identical results.
//
// Threads: every function may run on any thread, many at once on one backend; a CancelToken
// is cancelled from any thread (a signal handler's thread, a server's connection thread).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"
#include "query/filter_parser.h"
#include "query/query_spec.h"
#include "query/raw_retention.h"
#include "store/backend.h"

namespace flowscope::query {

// Shared flag: cancel() from anywhere; the running query stops at the next batch and returns
// an Error with ErrorCode::Cancelled.
class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const { flag_->store(true, std::memory_order_relaxed); }
  bool cancelled() const { return flag_->load(std::memory_order_relaxed); }
  // For async-signal-safe use: a handler may store true into it.
  std::atomic<bool>* flag() const { return flag_.get(); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

inline bool is_cancelled(const Error& e) { return e.code == ErrorCode::Cancelled; }

struct QueryProgress {
  std::uint64_t rows_scanned = 0;  // rows the store returned so far
  std::uint64_t rows_matched = 0;  // rows that passed the filter
  std::uint64_t batches = 0;
};
using ProgressFn = std::function<void(const QueryProgress&)>;

struct ExecOptions {
  CancelToken cancel;
  // Called after each batch, one call at a time, from the executing thread or (execute_stat) a
  // scan thread; may be empty.
  ProgressFn progress;
  FilterContext filter;  // time context and IP group names for the filter
  // For tests and diagnostics: never use Backend::aggregate or rollups (always scan raw
  // sessions and group here).
  bool force_scan = false;
  // Scan threads of execute_stat (0: one per hardware thread). Answers do not depend on it.
  unsigned threads = 0;
};

struct QueryStats {
  store::ScanStats scan;
  std::uint64_t rows_matched = 0;
  std::uint64_t rows_returned = 0;
  std::string source;  // "raw", or what Backend::aggregate answered from
};

// Receives matching rows in order, with the columns of `fields` (QuerySpec::fields or the
// default) set; Sum and Diff fields are not columns: format them with
// query/output.h. Returns false to stop. A batch is valid only during the call.
using RowSink = std::function<bool(const SessionBatch& rows)>;

// Fails on a bad filter (an Error with the position), an invalid spec, a backend failure or
// cancellation.
Result<QueryStats> execute_query(const store::Backend& backend, const QuerySpec& spec,
                                 const RowSink& sink, const ExecOptions& options = {});

// Totals of one stat row.
struct StatValues {
  std::uint64_t value = 0;     // what the spec counts (bytes, packets, sessions or distinct)
  std::uint64_t bytes = 0;     // by the spec's side
  std::uint64_t packets = 0;   // by the spec's side
  std::uint64_t sessions = 0;  // sessions the group took part in
};

struct StatResult {
  std::vector<GroupKey> group_by;  // as asked
  // Row i is the i-th ranked group. The value of group item k is in the column
  // key_column(group_by[k].field) (for an Either field, its first operand's column: ADDR's
  // values are in cln_addr's column), masked to the item's prefixes.
  SessionBatch keys;
  std::vector<StatValues> rows;
  StatValues others;               // the groups after the top N, summed (value: see below)
  std::uint64_t other_groups = 0;  // how many groups `others` stands for
  StatValues total;                // every group; for Unique, value = distinct overall
  std::uint64_t total_groups = 0;
  // With a bucket: bucket start times (ms, ascending, every bucket of the window that has
  // data), and per row then `others`, the value per bucket: series[(row) * buckets.size() + b],
  // `others` last.
  std::vector<std::int64_t> buckets;
  std::vector<std::uint64_t> series;
  // A sum reached 2^64 - 1 and was clamped there (core/saturating.h): hostile or corrupt
  // counters. Outputs say so.
  bool saturated = false;
  QueryStats stats;
  // Set by the caller (not the executor) when raw retention dropped part of the window and the
  // answer came from raw sessions (query/raw_retention.h); the JSON total row carries it.
  std::optional<MissingRange> missing;
};

// The batch column that holds the values of group item `field`.
FieldId key_column(const GroupKey& key);

Result<StatResult> execute_stat(const store::Backend& backend, const StatSpec& spec,
                                const ExecOptions& options = {});

}  // namespace flowscope::query
