#pragma once
// Internal to flowscope_clickhouse: other modules use its public headers.
// The whole filter tree (core/filter_expr.h: ORs, negations, derived Either/Sum/Diff fields,
// CIDR blocks, IP group ids, every comparator) as a ClickHouse condition over the flows table,
// and a row order as ORDER BY, generated from the field registry and the parsed tree, never
// from the filter's text (docs/scale-out.md "Reads"). Each condition keeps the query engine's
// semantics (query/compiled_filter.h): a comparison on an absent value is false and `!`
// negates that; an Either field matches when either operand does (`!=`: when neither equals);
// a Sum/Diff counts an absent operand as 0, wraps as the engine's integers do, and is absent
// when both are; strings compare ASCII-case-insensitively. Pure functions; any thread.

#include <optional>
#include <span>
#include <string>

#include "core/filter_expr.h"
#include "store/backend.h"

namespace flowscope::clickhouse {

// The condition, or nullopt when some part has no SQL form here (the engine then filters).
std::optional<std::string> filter_sql(const FilterExpr& filter);
// "ORDER BY" keys for `order`, then the scan order (hour of start_time, arrival), so ties come
// in the order the engine's stable sort leaves them; nullopt for a key with no SQL form.
std::optional<std::string> order_sql(std::span<const store::ScanOrder> order);

}  // namespace flowscope::clickhouse
