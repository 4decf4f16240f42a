#pragma once
// Helpers shared by the raw and stat executors (internal to flowscope_query): compiling a
// Selection's filter, reading values of derived fields and order keys of any column.
// Pure functions; any thread.
// Internal to flowscope_query: other modules use its public headers.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"
#include "query/compiled_filter.h"
#include "query/filter_parser.h"
#include "query/query_spec.h"
#include "store/format.h"

namespace flowscope::query {

// The user's filter parsed in its syntax, ANDed as a tree with the selection's restriction.
// Errors keep their positions in the user's text.
Result<FilterExpr> selection_filter(const Selection& where, const FilterContext& ctx);
// selection_filter() compiled.
Result<CompiledFilter> compile_selection(const Selection& where, const FilterContext& ctx);

// The value of a Sum or Diff field at `row` (absent operands count as 0); nullopt when both
// operands are absent. Diff of times is signed; returned as int64 bits in a uint64 for U64
// sums, as the signed value for durations.
std::optional<std::int64_t> derived_value(const SessionBatch& batch, FieldId field,
                                          std::size_t row);

// An integer column's value at `row` (0 for other types).
std::uint64_t integer_at(const Column& col, std::size_t row);

// The order key of a non-string column's value at `row`.
store::OrderKey order_key_of(const Column& col, std::size_t row);

inline void dedupe(std::vector<FieldId>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace flowscope::query
