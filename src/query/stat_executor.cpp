// execute_stat: statistics over sessions (docs/query.md "stat"). Each side of a sided group
// (ADDR = client address, then server address) is one aggregation grouped by that side's
// columns (plus the counted field for distinct counts, plus the time bucket); stat_merge.h then
// merges the rows of all aggregations by their (masked) keys, ranks them and cuts the top N.
// Fixed-width groupings run the fixed-key aggregator here, over the rows the store finds
// cheapest (a rollup view or raw sessions, Backend::plan_aggregate) when it can apply the whole
// filter, else over raw sessions filtered here column-wise; scans are shared out to
// ExecOptions::threads threads, each with its own aggregators, regrouped into disjoint parts
// afterwards. Text groupings go to Backend::aggregate or store::Aggregator. Every path groups
// the same rows the same way, so all give identical results.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "query/executor.h"
#include "query/executor_support.h"
#include "query/stat_merge.h"
#include "store/batch_codec.h"
#include "store/fixed_key_aggregator.h"
#include "store/ranked_aggregation.h"
#include "store/rollup.h"

namespace flowscope::query {
namespace {

// The sums every aggregation asks for, in this order (all are rollup sums).
constexpr FieldId kSums[] = {FieldId::ClnBytes, FieldId::SrvBytes, FieldId::ClnPackets,
                             FieldId::SrvPackets};
static_assert(std::size(kSums) == std::size(store::kRollupSums));

std::vector<StatVariant> plan_variants(const StatSpec& spec) {
  const bool sided = std::any_of(spec.group_by.begin(), spec.group_by.end(),
                                 [](const GroupKey& k) { return is_sided(k); });
  std::vector<StatVariant> out;
  for (int v = 0; v < (sided ? 2 : 1); ++v) {
    StatVariant var;
    for (const GroupKey& k : spec.group_by) {
      const auto fields = side_fields(k);
      var.key_fields.push_back(fields.size() == 2 ? fields[static_cast<std::size_t>(v)]
                                                  : fields[0]);
    }
    // An unsided key's side is its field's (core/fields.def relations: srv_* fields count for
    // the server, cln_* and unsided fields for the client).
    var.side = sided ? v : (spec.group_by.empty() ? 0 : side_of(var.key_fields[0]));
    if (spec.count == CountKind::Unique) {
      const FieldInfo& u = field_info(spec.unique_field);
      if (u.kind == FieldKind::Either) {
        // Under a sided group: the other side's value (a host's peers); else either value.
        if (sided) {
          var.unique_fields.push_back(u.operands[static_cast<std::size_t>(1 - v)]);
        } else {
          var.unique_fields = {u.operands[0], u.operands[1]};
        }
      } else {
        var.unique_fields.push_back(spec.unique_field);
      }
    }
    out.push_back(std::move(var));
  }
  return out;
}

// One aggregation's rows: fixed-key parts with disjoint groups, or a general result.
struct Aggregated {
  std::vector<store::FixedKeyAggregator> parts;
  std::optional<store::AggregateResult> general;
  store::ScanStats stats;
  std::string source;
};

// Progress of scans on several threads: counters summed, the callback one call at a time.
class SharedProgress {
 public:
  SharedProgress(const ExecOptions& options, QueryProgress& progress)
      : options_(options), progress_(progress) {}
  void batch(std::uint64_t scanned, std::uint64_t matched) {
    std::lock_guard lock(mutex_);
    progress_.rows_scanned += scanned;
    progress_.rows_matched += matched;
    ++progress_.batches;
    if (options_.progress) options_.progress(progress_);
  }

 private:
  const ExecOptions& options_;
  std::mutex mutex_;
  QueryProgress& progress_;  // guarded by mutex_
};

unsigned thread_count(const ExecOptions& options) {
  const unsigned n = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  return std::clamp(n, 1u, 64u);
}

// The general aggregator on the scan path (text keys): one thread.
struct GeneralScan {
  store::Aggregator agg;
  std::vector<FieldId> columns;
  SessionBatch selected;  // its copy of the selected rows
};

// Aggregations of the rows a rollup plan (or the store's cheapest source) gives: no residual
// filter (the pushdown is exact). Per-thread aggregators, regrouped into disjoint parts.
Result<void> run_planned(const store::Backend& backend, store::AggregateRequest request,
                         const store::AggregatePlan& plan, store::FixedKeyAggregator proto,
                         unsigned threads, const CancelToken& cancel, SharedProgress& progress,
                         Aggregated& out) {
  request.scan.columns = proto.scan_columns();
  dedupe(request.scan.columns);
  std::vector<store::FixedKeyAggregator> workers(threads, proto);
  std::atomic<bool> cancelled{false};
  store::AggregatePlan followed;
  auto stats = backend.scan_aggregate_rows(
      request, plan, threads,
      [&](unsigned w, const SessionBatch& batch) {
        if (cancel.cancelled()) {
          cancelled = true;
          return false;
        }
        workers[w].add(batch);
        progress.batch(batch.size(), batch.size());
        return true;
      },
      &followed);
  if (!stats) return stats.error();
  if (cancelled) return Error{ErrorCode::Cancelled, "query cancelled"};
  out.parts = store::FixedKeyAggregator::repartition(std::move(workers), threads);
  out.stats = std::move(*stats);
  out.source = followed.from_rollup()
                   ? fmt::format("{} (chosen by cost: {} rows to read, raw sessions {})",
                                 followed.source, followed.rows, followed.raw_rows)
                   : followed.source;
  return ok();
}

// The aggregations of `requests` (one window and one set of pushed-down predicates): each from
// the cheapest rows the backend has when it can apply the whole filter (rollups), the others
// together in one scan of raw sessions that applies the rest of the filter column-wise.
Result<std::vector<Aggregated>> run_aggregates(const store::Backend& backend,
                                               const std::vector<store::AggregateRequest>& requests,
                                               const CompiledFilter& filter,
                                               const ExecOptions& options,
                                               QueryProgress& progress) {
  std::vector<Aggregated> done(requests.size());
  SharedProgress shared(options, progress);
  unsigned threads = thread_count(options);
  // Exact: the backend applies every condition itself, the pushed-down ranges or, when they
  // are not all of the filter, the whole tree (ScanRequest::filter, e.g. ClickHouse).
  const bool exact = !options.force_scan &&
                     (filter.pushdown_is_exact() || (!requests.empty() && requests[0].scan.filter &&
                                                     backend.applies_filter(requests[0].scan)));
  std::vector<std::size_t> scanned;  // requests left for the raw scan
  std::vector<store::FixedKeyAggregator> protos;
  std::vector<GeneralScan> general;  // per scanned request without a fixed-key aggregator
  std::vector<int> general_of;       // index in `general` per scanned request, or -1
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (options.cancel.cancelled()) return Error{ErrorCode::Cancelled, "query cancelled"};
    const store::AggregateRequest& request = requests[i];
    auto fast = store::FixedKeyAggregator::create(request);
    if (exact && fast) {
      const store::AggregatePlan plan = backend.plan_aggregate(request);
      if (plan.from_rollup()) {
        if (auto r = run_planned(backend, request, plan, std::move(*fast), threads, options.cancel,
                                 shared, done[i]);
            !r) {
          return r.error();
        }
        continue;
      }
    } else if (exact) {  // text keys: the backend's aggregation (rollups or its scan)
      auto r = backend.aggregate(request);
      if (!r) return r.error();
      shared.batch(r->stats.rows_returned, r->stats.rows_returned);
      done[i].stats = r->stats;
      done[i].source = r->source;
      done[i].general = std::move(*r);
      continue;
    }
    scanned.push_back(i);
    if (fast) {
      protos.push_back(std::move(*fast));
      general_of.push_back(-1);
    } else {
      auto g = store::Aggregator::create(request);
      if (!g) return g.error();
      protos.push_back(*store::FixedKeyAggregator::create(store::AggregateRequest{}));
      general_of.push_back(static_cast<int>(general.size()));
      std::vector<FieldId> columns = g->scan_columns();
      general.push_back({std::move(*g), std::move(columns), SessionBatch{}});
    }
  }
  if (scanned.empty()) return done;

  if (!general.empty()) threads = 1;  // store::Aggregator is one thread's
  store::ScanRequest scan = requests[scanned[0]].scan;
  scan.columns = filter.columns();
  for (std::size_t j = 0; j < scanned.size(); ++j) {
    const auto cols = general_of[j] >= 0 ? general[static_cast<std::size_t>(general_of[j])].columns
                                         : protos[j].scan_columns();
    scan.columns.insert(scan.columns.end(), cols.begin(), cols.end());
  }
  dedupe(scan.columns);
  struct Worker {
    std::vector<std::uint32_t> rows;
    std::vector<store::FixedKeyAggregator> aggs;
  };
  std::vector<Worker> workers(threads);
  for (Worker& w : workers) w.aggs = protos;
  std::atomic<bool> cancelled{false};
  auto stats = backend.scan_parallel(scan, threads, [&](unsigned wi, const SessionBatch& batch) {
    if (options.cancel.cancelled()) {
      cancelled = true;
      return false;
    }
    Worker& w = workers[wi];
    filter.select_rows(batch, w.rows);
    shared.batch(batch.size(), w.rows.size());
    const bool all = w.rows.size() == batch.size();
    for (std::size_t j = 0; j < scanned.size(); ++j) {
      if (general_of[j] < 0) {
        if (all) {
          w.aggs[j].add(batch);
        } else {
          w.aggs[j].add(batch, w.rows);
        }
        continue;
      }
      GeneralScan& g = general[static_cast<std::size_t>(general_of[j])];  // one worker
      if (all) {
        g.agg.add(batch);
      } else if (!w.rows.empty()) {
        g.selected.clear();
        store::append_rows(batch, w.rows, g.selected, g.columns);
        g.agg.add(g.selected);
      }
    }
    return true;
  });
  if (!stats) return stats.error();
  if (cancelled) return Error{ErrorCode::Cancelled, "query cancelled"};
  for (std::size_t j = 0; j < scanned.size(); ++j) {
    Aggregated& d = done[scanned[j]];
    // One scan: its counters go with the first result only, so that sums stay right.
    if (j == 0) d.stats = *stats;
    d.source = "raw";
    if (general_of[j] >= 0) {
      d.general = std::move(general[static_cast<std::size_t>(general_of[j])].agg).finish({});
      continue;
    }
    std::vector<store::FixedKeyAggregator> per_worker;
    for (Worker& w : workers) per_worker.push_back(std::move(w.aggs[j]));
    d.parts = store::FixedKeyAggregator::repartition(std::move(per_worker), threads);
  }
  return done;
}

// A statistic's top N ranked by the backend (store/ranked_aggregation.h), when one
// aggregation's rows are its groups (one side, no network masks, no distinct counts, no
// buckets) and the backend applies the whole filter: only the first N groups come back, the
// totals and "others" from the backend's totals over every group. nullopt: rank here.
std::optional<Result<StatResult>> ranked_stat(const store::Backend& backend, const StatSpec& spec,
                                              const StatVariant& variant,
                                              const store::AggregateRequest& request,
                                              const CompiledFilter& filter,
                                              const ExecOptions& options) {
  const auto* ranked = dynamic_cast<const store::RankedAggregation*>(&backend);
  const bool masked =
      std::any_of(spec.group_by.begin(), spec.group_by.end(),
                  [](const GroupKey& k) { return k.v4_prefix < 32 || k.v6_prefix < 128; });
  if (ranked == nullptr || options.force_scan || spec.top == 0 || spec.group_by.empty() || masked ||
      spec.count == CountKind::Unique || spec.bucket_ms > 0 ||
      !(filter.pushdown_is_exact() || backend.applies_filter(request.scan))) {
    return std::nullopt;
  }
  store::TopRequest top;
  top.n = spec.top;
  top.rank_sums = rank_sums(spec, variant);
  // The items' order (the request's group_by is sorted); a repeated item ties as its first.
  for (FieldId f : variant.key_fields) {
    if (std::find(top.tie_order.begin(), top.tie_order.end(), f) == top.tie_order.end()) {
      top.tie_order.push_back(f);
    }
  }
  auto answer = ranked->aggregate_top(request, top);
  if (!answer) return std::nullopt;
  if (!*answer) return Result<StatResult>(answer->error());
  const store::TopGroups& groups = **answer;
  StatResult result;
  result.group_by = spec.group_by;
  VariantRows in;
  in.variant = &variant;
  in.general = &groups.groups;
  merge_stat(spec, std::span<const VariantRows>(&in, 1), result);
  if (!apply_top_totals(spec, variant, groups, result)) return std::nullopt;
  result.stats.scan = groups.groups.stats;
  result.stats.source = groups.groups.source;
  result.stats.rows_matched = groups.groups.keys.size();
  if (options.progress) {
    QueryProgress progress;
    progress.rows_scanned = progress.rows_matched = groups.groups.keys.size();
    progress.batches = 1;
    options.progress(progress);
  }
  return Result<StatResult>(std::move(result));
}

}  // namespace

FieldId key_column(const GroupKey& key) { return side_fields(key)[0]; }

Result<StatResult> execute_stat(const store::Backend& backend, const StatSpec& spec,
                                const ExecOptions& options) {
  auto tree = selection_filter(spec.where, options.filter);
  if (!tree) return tree.error();
  auto filter = CompiledFilter::compile(*tree);
  if (!filter) return filter.error();
  if (spec.group_by.size() > 24) {
    return Error{ErrorCode::InvalidArgument, "at most 24 group items"};
  }
  for (const GroupKey& k : spec.group_by) {
    const FieldInfo& info = field_info(k.field);
    if (!in_kind(info, RecordKind::Session) || info.kind == FieldKind::Sum ||
        info.kind == FieldKind::Diff) {
      return Error{ErrorCode::InvalidArgument, fmt::format("cannot group by {}", info.name)};
    }
  }
  const std::vector<StatVariant> variants = plan_variants(spec);

  StatResult result;
  result.group_by = spec.group_by;
  QueryProgress progress;
  std::vector<store::AggregateRequest> requests;
  const auto whole = std::make_shared<const FilterExpr>(*tree);
  for (const StatVariant& var : variants) {
    store::AggregateRequest req;
    req.scan.begin_ms = spec.where.begin_ms;
    req.scan.end_ms = spec.where.end_ms;
    req.scan.predicates = filter->pushdown();
    if (!filter->pushdown_is_exact()) req.scan.filter = whole;
    req.group_by = var.key_fields;
    req.group_by.insert(req.group_by.end(), var.unique_fields.begin(), var.unique_fields.end());
    dedupe(req.group_by);
    req.sums.assign(std::begin(kSums), std::end(kSums));
    req.bucket_ms = spec.bucket_ms;
    requests.push_back(std::move(req));
  }
  if (variants.size() == 1) {
    if (auto r = ranked_stat(backend, spec, variants[0], requests[0], *filter, options)) {
      if (options.cancel.cancelled()) return Error{ErrorCode::Cancelled, "query cancelled"};
      return std::move(*r);
    }
  }
  auto aggregated = run_aggregates(backend, requests, *filter, options, progress);
  if (!aggregated) return aggregated.error();
  if (options.cancel.cancelled()) return Error{ErrorCode::Cancelled, "query cancelled"};

  std::vector<VariantRows> inputs;
  std::vector<std::string> sources;
  for (std::size_t vi = 0; vi < variants.size(); ++vi) {
    Aggregated& agg = (*aggregated)[vi];
    sources.push_back(agg.source);
    result.stats.scan.segments += agg.stats.segments;
    result.stats.scan.blocks += agg.stats.blocks;
    result.stats.scan.blocks_skipped += agg.stats.blocks_skipped;
    result.stats.scan.rows_read += agg.stats.rows_read;
    result.stats.scan.rows_returned += agg.stats.rows_returned;
    for (auto& e : agg.stats.errors) result.stats.scan.errors.push_back(std::move(e));
    VariantRows in;
    in.variant = &variants[vi];
    for (const auto& p : agg.parts) in.parts.push_back(&p);
    if (agg.general) in.general = &*agg.general;
    inputs.push_back(std::move(in));
  }
  result.stats.source = sources.empty() ? "raw" : sources[0];
  for (std::size_t i = 1; i < sources.size(); ++i) {
    if (sources[i] != sources[0]) result.stats.source += "; " + sources[i];
  }
  result.stats.rows_matched = progress.rows_matched;
  merge_stat(spec, inputs, result);
  return result;
}

}  // namespace flowscope::query
