#pragma once
// The filter AST (docs/query.md): what both filter syntaxes (FlowTraq's, query/filter_parser.h,
// and nfdump's with --nfdump-filter) compile to, what query/compiled_filter.h turns into column
// predicates, and what a storage backend that filters itself (ClickHouse, docs/scale-out.md)
// turns into its own conditions: the one parsed tree permissions act on, never text again. Fields
// are registry FieldIds of the session kind, as the user named them (derived Either/Sum/Diff fields
// included); values are already typed and checked against the field. Plain values; any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/cidr.h"
#include "core/country_code.h"
#include "core/field_registry.h"

namespace flowscope {

// One typed value of a comparison:
//   uint64     U8/U16/U32/U64 numbers, Proto numbers, TcpFlags bit sets (a set that must be
//              contained), IP group ids
//   int64      Time (epoch ms) and Duration (ms)
//   Cidr       Ip fields (a host address is a /32 or /128)
//   Country    Country fields
//   string     String fields (compared case-insensitively)
using FilterValue = std::variant<std::uint64_t, std::int64_t, Cidr, CountryCode, std::string>;

struct Comparison {
  FieldId field = FieldId::Proto;
  Comparator op = Comparator::Eq;
  FilterValue value;
  std::size_t offset = 0;  // of the field keyword in the filter text, for messages
};

struct FilterExpr {
  enum class Op : std::uint8_t {
    All,      // matches every session (the empty filter, nfdump's "any")
    Compare,  // `cmp`
    And,      // every child (two or more)
    Or,       // any child (two or more)
    Not,      // not the one child
  };
  Op op = Op::All;
  Comparison cmp;                    // Op::Compare only
  std::vector<FilterExpr> children;  // And, Or, Not

  static FilterExpr all() { return {}; }
  static FilterExpr compare(Comparison c) {
    FilterExpr e;
    e.op = Op::Compare;
    e.cmp = std::move(c);
    return e;
  }
  static FilterExpr make(Op op, std::vector<FilterExpr> children) {
    FilterExpr e;
    e.op = op;
    e.children = std::move(children);
    return e;
  }
};

// The filter in FlowTraq syntax, fully parenthesised where precedence matters, values in their
// canonical form: parse_filter(to_text(e)) gives back `e` (without offsets). For logs, the
// server's query echo and tests.
std::string to_text(const FilterExpr& e);

// `a AND b` as a tree: All vanishes, nested ANDs are flattened (so a top-level conjunction
// stays one node the store can push down). How a permission restriction is joined to a user's
// filter: never through text.
FilterExpr and_of(FilterExpr a, FilterExpr b);

// Equal trees and values; offsets are ignored.
bool same_filter(const FilterExpr& a, const FilterExpr& b);

}  // namespace flowscope
