#pragma once
// RankedAggregation: a capability a Backend may have beside its interface (store/backend.h):
// answering only the first N groups of an aggregation by a ranking, with the totals over every
// group, so that a statistic's top N (docs/query.md "stat") does not bring every group back
// (ClickHouse: ORDER BY ... LIMIT N in SQL, docs/scale-out.md "Reads"). The query engine asks
// for it with dynamic_cast; a backend without it aggregates every group. Kept out of Backend
// so that backends need not know about ranking.
//
// The rank order is the one of a statistic's groups (docs/query.md "stat"): the ranking value
// descending; ties by the group's key, field by field in TopRequest::tie_order: absent before
// present, then an address by its 16 bytes (IPv4 v4-mapped), a text by its length's
// little-endian 4 bytes then its bytes, any other value by the 8 little-endian bytes of its
// order key (store/format.h).

#include <cstdint>
#include <optional>
#include <vector>

#include "core/result.h"
#include "store/backend.h"

namespace flowscope::store {

struct TopRequest {
  std::uint64_t n = 0;  // > 0
  // The ranking value: these AggregateRequest::sums added, clamped at 2^64 - 1
  // (core/saturating.h); empty: the group's session count.
  std::vector<std::size_t> rank_sums;
  // The group fields in the order ties compare them (the statistic's items; each of
  // AggregateRequest::group_by once); empty: group_by's order.
  std::vector<FieldId> tie_order;
};

struct TopGroups {
  AggregateResult groups;  // the first n groups (all when fewer), in rank order
  std::uint64_t total_groups = 0;
  std::uint64_t total_count = 0;          // sessions of every group
  std::vector<std::uint64_t> total_sums;  // per AggregateRequest::sums, over every group
};

class RankedAggregation {
 public:
  virtual ~RankedAggregation() = default;
  // nullopt when this backend does not rank `request` itself (the caller then aggregates
  // every group), or when a total reached 2^64 - 1 (clamped: the rest of the groups cannot be
  // told from the totals); an error when the backend failed. The caller makes sure the backend
  // applies the request's whole filter (Backend::applies_filter).
  virtual std::optional<Result<TopGroups>> aggregate_top(const AggregateRequest& request,
                                                         const TopRequest& top) const = 0;
};

}  // namespace flowscope::store
