#pragma once
// The filter AST under the query engine's names: the tree itself lives in core (core/filter_expr.h)
// so that storage backends below the query engine can read it (docs/query.md, docs/scale-out.md).

#include "core/filter_expr.h"

namespace flowscope::query {

using ::flowscope::and_of;
using ::flowscope::Comparison;
using ::flowscope::FilterExpr;
using ::flowscope::FilterValue;
using ::flowscope::same_filter;
using ::flowscope::to_text;

}  // namespace flowscope::query
