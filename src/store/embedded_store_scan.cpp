// EmbeddedStore's read side: scans (one thread or shared out to workers) and aggregation, from
// rollups or raw sessions chosen by cost (docs/storage.md "Scans", "Rollups").
#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "store/embedded_store.h"  // IWYU pragma: associated
#include "store/fixed_key_aggregator.h"
#include "store/rollup.h"
#include "store/rollup_plan.h"
#include "store/snapshot.h"

namespace flowscope::store {

Result<ScanStats> EmbeddedStore::scan(const ScanRequest& request, const ScanSink& sink) const {
  auto snap = snapshot();
  return scan_snapshot(*snap, Level::Raw, "", request, sink);
}

Result<ScanStats> EmbeddedStore::scan_parallel(const ScanRequest& request, unsigned workers,
                                               const WorkerScanSink& sink) const {
  auto snap = snapshot();
  return scan_snapshot_parallel(*snap, {Level::Raw, "", true}, request, workers, sink);
}

Result<ScanStats> EmbeddedStore::scan_rollup(const std::string& view, Level level,
                                             const ScanRequest& request,
                                             const ScanSink& sink) const {
  auto snap = snapshot();
  return scan_snapshot(*snap, level, view, request, sink);
}

namespace {

bool overlaps(const SegmentInfo& info, const ScanRequest& scan) {
  return !scan.time_bounded() || (info.max_time >= scan.begin_ms && info.min_time < scan.end_ms);
}

// Whether `snap` holds `level` of `view` for every sealed raw segment in the request's window
// (a view added later, or a rollup level dropped by its retention, would miss rows); the shape
// of the request is rollup_covers' part (rollup_plan.h).
bool rollup_complete(const Snapshot& snap, const RollupView& view, Level level,
                     const AggregateRequest& request) {
  std::set<std::uint64_t> rolled;
  for (const SegmentEntry& e : snap.segments) {
    if (e.level == level && e.view == view.name) rolled.insert(e.segment->info().wal_number);
  }
  for (const SegmentEntry& e : snap.segments) {
    if (e.level != Level::Raw) continue;
    if (overlaps(e.segment->info(), request.scan) &&
        !rolled.contains(e.segment->info().wal_number)) {
      return false;
    }
  }
  return true;
}

bool rollup_answers(const Snapshot& snap, const RollupView& view, Level level,
                    const AggregateRequest& request) {
  return rollup_covers(view, bucket_ms(level), request) &&
         rollup_complete(snap, view, level, request);
}

// Rows of the segments of (level, view) in the request's window.
std::uint64_t rows_in_window(const Snapshot& snap, Level level, std::string_view view,
                             const ScanRequest& scan) {
  std::uint64_t rows = 0;
  for (const SegmentEntry& e : snap.segments) {
    if (e.level == level && e.view == view && overlaps(e.segment->info(), scan)) {
      rows += e.segment->info().rows;
    }
  }
  return rows;
}

Level level_of_bucket(std::uint64_t ms) {
  for (Level level : {Level::Minute, Level::Hour, Level::Day}) {
    if (static_cast<std::uint64_t>(bucket_ms(level)) == ms) return level;
  }
  return Level::Raw;
}

}  // namespace

namespace {

// Whether raw retention dropped sessions of the window that a rollup still holds. Retention
// drops the oldest partitions, so: a rollup segment in the window holds a bucket older than the
// bucket of the oldest raw session left. Raw rows then answer only part of the question.
bool raw_lacks_part(const Snapshot& snap, const ScanRequest& scan) {
  std::optional<std::int64_t> raw_first;
  for (const SegmentEntry& e : snap.segments) {
    if (e.level != Level::Raw) continue;
    const std::int64_t t = e.segment->info().min_time;
    raw_first = raw_first ? std::min(*raw_first, t) : t;
  }
  for (const SegmentEntry& e : snap.segments) {
    if (e.level == Level::Raw || !overlaps(e.segment->info(), scan)) continue;
    if (!raw_first) return true;
    const std::int64_t bucket = bucket_ms(e.level);
    const std::int64_t raw_bucket =
        (*raw_first >= 0 ? *raw_first : *raw_first - bucket + 1) / bucket * bucket;
    if (e.segment->info().min_time < raw_bucket) return true;
  }
  return false;
}

// The cheapest plan on `snap` by the shared rule (rollup_plan.h); the unsealed tail is read
// raw whatever answers the rest. Where raw retention dropped part of the window, any rollup
// that answers is taken however many rows it reads, so that one question never gets two
// answers (docs/storage.md "Retention"); raw answers only when no rollup does.
AggregatePlan plan_on(const Snapshot& snap, const std::vector<RollupView>& views,
                      const AggregateRequest& request) {
  const std::uint64_t raw_rows =
      rows_in_window(snap, Level::Raw, "", request.scan) + snap.tail_rows;
  const bool partial = raw_lacks_part(snap, request.scan);
  AggregatePlan plan = choose_aggregate_plan(
      views, request, partial ? std::numeric_limits<std::uint64_t>::max() : raw_rows,
      [&](const RollupView& view, std::int64_t bucket) -> std::optional<std::uint64_t> {
        const Level level = level_of_bucket(static_cast<std::uint64_t>(bucket));
        if (!rollup_complete(snap, view, level, request)) return std::nullopt;
        return rows_in_window(snap, level, view.name, request.scan) + snap.tail_rows;
      },
      " + raw tail");
  if (!plan.from_rollup()) return AggregatePlan::raw(raw_rows);
  plan.raw_rows = raw_rows;
  return plan;
}

}  // namespace

AggregatePlan EmbeddedStore::plan_aggregate(const AggregateRequest& request) const {
  return plan_on(*snapshot(), options_.rollups, request);
}

bool EmbeddedStore::aggregates_natively(const AggregateRequest& request) const {
  return plan_aggregate(request).from_rollup();
}

Result<ScanStats> EmbeddedStore::scan_aggregate_rows(const AggregateRequest& request,
                                                     const AggregatePlan& plan, unsigned workers,
                                                     const WorkerScanSink& sink,
                                                     AggregatePlan* followed) const {
  auto snap = snapshot();
  if (plan.from_rollup()) {
    const Level level = level_of_bucket(plan.level_ms);
    for (const RollupView& view : options_.rollups) {
      if (view.name != plan.view || level == Level::Raw) continue;
      if (!rollup_answers(*snap, view, level, request)) break;
      if (followed != nullptr) *followed = plan;
      // The tail is not rolled up yet: its raw rows complete the answer.
      return scan_snapshot_parallel(*snap, {level, view.name, true}, request.scan, workers, sink);
    }
  }
  if (followed != nullptr) {
    *followed = AggregatePlan::raw(plan.raw_rows);
  }
  return scan_snapshot_parallel(*snap, {Level::Raw, "", true}, request.scan, workers, sink);
}

Result<AggregateResult> EmbeddedStore::aggregate(const AggregateRequest& request) const {
  const AggregatePlan plan = plan_aggregate(request);
  AggregatePlan followed;
  AggregateRequest req = request;
  if (auto fast = FixedKeyAggregator::create(request)) {
    req.scan.columns = fast->scan_columns();
    auto stats = scan_aggregate_rows(
        req, plan, 1,
        [&](unsigned, const SessionBatch& b) {
          fast->add(b);
          return true;
        },
        &followed);
    if (!stats) return stats.error();
    AggregateResult result = std::move(*fast).finish(std::move(*stats));
    result.source = followed.source;
    return result;
  }
  auto agg = Aggregator::create(request);
  if (!agg) return agg.error();
  req.scan.columns = agg->scan_columns();
  auto stats = scan_aggregate_rows(
      req, plan, 1,
      [&](unsigned, const SessionBatch& b) {
        agg->add(b);
        return true;
      },
      &followed);
  if (!stats) return stats.error();
  AggregateResult result = std::move(*agg).finish(std::move(*stats));
  result.source = followed.source;
  return result;
}

}  // namespace flowscope::store
