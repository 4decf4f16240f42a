#pragma once
// Typed JSON of stored values and of a statistic's whole result, for the query protocol's
// machine-readable answers (docs/protocol.md "typed answers"): `flowscope report -srv` reads
// the numbers a server computed exactly as `report -d` reads them from its own store.
//   value:  null when absent; an address or country as text ("10.0.0.1", "BE"); a string as
//           text; every other type (counts, times and durations in ms, flags, protocol) as an
//           integer.
//   stat:   {"keys": {FIELD: [value per row]}, "rows": [[value, bytes, packets, sessions]],
//            "others": [...], "other_groups", "total": [...], "total_groups", "buckets",
//            "series", "saturated"}; the group items come from the spec the client sent.
// from_json checks every type and count and names what is wrong.
#include <cstddef>

#include <nlohmann/json.hpp>

#include "core/record_batch.h"
#include "core/result.h"
#include "query/executor.h"

namespace flowscope::query {

nlohmann::json typed_value(const Column& column, std::size_t row);
// Sets row `row` of `field`'s column from typed_value's JSON (null leaves it absent).
// REQUIRES: batch.has_column(field), row < batch.size(), String columns set in row order.
Result<void> set_typed_value(SessionBatch& batch, FieldId field, std::size_t row,
                             const nlohmann::json& value);

nlohmann::json typed_stat_result(const StatResult& result);
// The result of `spec` from typed_stat_result's JSON.
Result<StatResult> stat_result_from_typed(const StatSpec& spec, const nlohmann::json& json);

}  // namespace flowscope::query
