#pragma once
// Typed values for filter comparisons, shared by both filter syntaxes: reads the text of a
// value for a field (addresses and CIDRs, numbers, protocols, flags, countries, times,
// durations, group names) and checks the comparator against the registry. Pure functions;
// any thread.
// Internal to flowscope_query: other modules use its public headers.

#include <cstddef>
#include <string_view>

#include "core/result.h"
#include "query/filter.h"
#include "query/filter_parser.h"

namespace flowscope::query {

// A comparison of `field` (a filterable session field) with the value `text`, which starts at
// `value_offset` in the filter; `field_offset` is where the field was named. Errors carry the
// offset of the offending part and say what the field expects. May rewrite an address compared
// with an IP group name into the matching group field (CLNIP == Campus -> CLNGRP == id).
Result<FilterExpr> make_comparison(FieldId field, std::size_t field_offset, Comparator op,
                                   std::size_t op_offset, std::string_view text,
                                   std::size_t value_offset, const FilterContext& ctx);

// What a field's values look like, for "expected ..." messages: "an IPv4/IPv6 address or CIDR".
std::string_view value_hint(FieldType type);

}  // namespace flowscope::query
