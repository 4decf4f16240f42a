#pragma once
// The rule that picks a rollup for an aggregation (docs/storage.md "Rollups"), shared by every
// backend that keeps rollups (the embedded store, ClickHouse: docs/scale-out.md) so that both
// choose alike: a (view, level) answers a request when the view's keys cover its group-by and
// predicate fields, its sums are rollup sums, the level's bucket divides the requested bucket
// and aligns with the window, and the backend holds that level for every raw row of the window;
// among those, the one with the fewest rows to read wins when that is fewer than the raw rows,
// coarser levels first so that ties go to the coarser one. Pure functions: any thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "store/backend.h"
#include "store/embedded_store.h"

namespace flowscope::store {

// The rollup levels' buckets, coarsest first: 1 day, 1 hour, 1 minute.
inline constexpr std::int64_t kRollupBuckets[] = {86'400'000, 3'600'000, 60'000};

// Whether `view` at bucket `bucket_ms` can answer `request` by its shape alone (keys, sums,
// bucket, window alignment); what the backend holds is the caller's part.
bool rollup_covers(const RollupView& view, std::int64_t bucket_ms, const AggregateRequest& request);

// Rows `view` at `bucket_ms` would read for the request, or nullopt when the backend does not
// hold that level for every raw row of the window. Called only where rollup_covers holds.
using RollupRows =
    std::function<std::optional<std::uint64_t>(const RollupView& view, std::int64_t bucket_ms)>;

// The cheapest plan: raw (`raw_rows`) or a (view, level). The source of a rollup plan reads
// "rollup VIEW LEVEL" followed by `source_suffix` (e.g. " + raw tail").
AggregatePlan choose_aggregate_plan(std::span<const RollupView> views,
                                    const AggregateRequest& request, std::uint64_t raw_rows,
                                    const RollupRows& rollup_rows, std::string_view source_suffix);

}  // namespace flowscope::store
