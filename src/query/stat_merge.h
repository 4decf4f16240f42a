#pragma once
// The post-scan half of execute_stat (internal to flowscope_query): the aggregation rows of each
// variant (one per side of a sided group) merged into the stat's groups by fixed-width packed
// keys in a flat hash table (store/flat_key_table.h; text values interned), ranked by a top-N
// selection rather than a full sort, cut and summed into a StatResult. When the aggregation
// rows are the groups already (one variant, no network masks, no distinct counts, no buckets)
// nothing is hashed. Ties rank by the group's key bytes as before, so output is reproducible
// and independent of thread counts. One thread.
// Internal to flowscope_query: other modules use its public headers.

#include <optional>
#include <span>
#include <vector>

#include "query/executor.h"
#include "query/query_spec.h"
#include "store/backend.h"
#include "store/fixed_key_aggregator.h"
#include "store/ranked_aggregation.h"

namespace flowscope::query {

// One aggregation: the columns of the group items on one side, and of the counted field.
struct StatVariant {
  std::vector<FieldId> key_fields;     // per group item
  std::vector<FieldId> unique_fields;  // CountKind::Unique
  int side = 0;                        // whose traffic "sent" means
};

// The rows of one variant's aggregation: fixed-key aggregators with disjoint groups, or a
// general AggregateResult.
struct VariantRows {
  const StatVariant* variant = nullptr;
  std::vector<const store::FixedKeyAggregator*> parts;
  const store::AggregateResult* general = nullptr;
};

// Fills result.keys, rows, others, total, buckets, series, total_groups and saturated.
void merge_stat(const StatSpec& spec, std::span<const VariantRows> inputs, StatResult& result);

// The sums a backend ranks `spec`'s groups by (store/ranked_aggregation.h; indices into the
// rollup sums every aggregation asks for, store/rollup.h): what values_of adds for the count.
std::vector<std::size_t> rank_sums(const StatSpec& spec, const StatVariant& variant);
// After merge_stat over a backend's first groups only (store::TopGroups): total, total_groups,
// others and other_groups from its totals over every group. False when a total clamps at
// 2^64 - 1 (the rest cannot be told from the totals; result unchanged).
bool apply_top_totals(const StatSpec& spec, const StatVariant& variant, const store::TopGroups& top,
                      StatResult& result);

}  // namespace flowscope::query
