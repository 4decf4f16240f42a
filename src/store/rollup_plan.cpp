#include "store/rollup_plan.h"

#include <algorithm>
#include <iterator>
#include <limits>

#include <fmt/format.h>

#include "store/partition.h"
#include "store/rollup.h"

namespace flowscope::store {
namespace {

bool aligned(std::int64_t bound, std::int64_t bucket, std::int64_t unbounded) {
  return bound == unbounded || floor_to(bound, bucket) == bound;
}

std::string_view bucket_name(std::int64_t bucket_ms) {
  for (Level level : {Level::Minute, Level::Hour, Level::Day}) {
    if (store::bucket_ms(level) == bucket_ms) return level_name(level);
  }
  return "raw";
}

}  // namespace

bool rollup_covers(const RollupView& view, std::int64_t bucket_ms,
                   const AggregateRequest& request) {
  auto is_key = [&](FieldId id) {
    return std::find(view.keys.begin(), view.keys.end(), id) != view.keys.end();
  };
  for (FieldId id : request.group_by) {
    if (!is_key(id)) return false;
  }
  for (const ScanPredicate& p : request.scan.predicates) {
    if (!is_key(p.field)) return false;
  }
  for (FieldId id : request.sums) {
    if (std::find(std::begin(kRollupSums), std::end(kRollupSums), id) == std::end(kRollupSums)) {
      return false;
    }
  }
  if (request.bucket_ms > 0 && request.bucket_ms % bucket_ms != 0) return false;
  return aligned(request.scan.begin_ms, bucket_ms, std::numeric_limits<std::int64_t>::min()) &&
         aligned(request.scan.end_ms, bucket_ms, std::numeric_limits<std::int64_t>::max());
}

AggregatePlan choose_aggregate_plan(std::span<const RollupView> views,
                                    const AggregateRequest& request, std::uint64_t raw_rows,
                                    const RollupRows& rollup_rows, std::string_view source_suffix) {
  AggregatePlan plan = AggregatePlan::raw(raw_rows);
  for (const RollupView& view : views) {
    for (std::int64_t bucket : kRollupBuckets) {
      if (!rollup_covers(view, bucket, request)) continue;
      const std::optional<std::uint64_t> rows = rollup_rows(view, bucket);
      if (rows && *rows < plan.rows) {
        plan.view = view.name;
        plan.level_ms = static_cast<std::uint64_t>(bucket);
        plan.rows = *rows;
        plan.source = fmt::format("rollup {} {}{}", view.name, bucket_name(bucket), source_suffix);
      }
    }
  }
  return plan;
}

}  // namespace flowscope::store
