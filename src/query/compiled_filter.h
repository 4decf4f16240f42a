#pragma once
// A filter compiled for execution over SessionBatch columns (docs/query.md "Execution"):
// - the ranges of its top-level conjunction on stored, ordered fields become
//   store::ScanPredicates, which the store applies exactly and uses for zone-map pruning;
// - the rest becomes a tree of column predicates evaluated a batch at a time: each leaf runs
//   one tight loop over one column (or two, for Either/Sum/Diff fields) into a bit vector, and
//   AND/OR/NOT combine bit vectors word by word. There is no per-row tree walk.
//
// Semantics: a comparison on an absent value is false (as SQL's NULL; the store's pushdown
// agrees); `!` negates that. For an Either field (ADDR, PORT, ...) `==`, `<`, ... hold when
// either operand matches and `!=` when neither equals the value. Sum/Diff fields count an
// absent operand as 0 and are absent when both are.
//
// A CompiledFilter is immutable once built: select() may run on many threads at once.

#include <cstdint>
#include <memory>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"
#include "query/filter.h"
#include "store/backend.h"

namespace flowscope::query {

// One bit per row, 64 rows a word (bit r % 64 of word r / 64); bits past the batch are zero.
using RowBits = std::vector<std::uint64_t>;

class CompiledFilter {
 public:
  // Fails only for an AST that no parser makes (a field that is not filterable, a value of the
  // wrong type for its field).
  static Result<CompiledFilter> compile(const FilterExpr& filter);

  // Ranges to push into store::ScanRequest::predicates (ANDed).
  const std::vector<store::ScanPredicate>& pushdown() const { return pushdown_; }
  // Whether pushdown() is the whole filter: rows the store returns need no further test.
  bool pushdown_is_exact() const;
  // The stored columns select() reads.
  const std::vector<FieldId>& columns() const { return columns_; }

  // Sets `bits` (resized to the batch) to the rows of `batch` that match the residual filter.
  // REQUIRES: the batch has values for columns() (absent columns read as absent).
  void select(const SessionBatch& batch, RowBits& bits) const;
  // The same as row indices, ascending.
  void select_rows(const SessionBatch& batch, std::vector<std::uint32_t>& rows) const;

  struct Node;  // the residual predicate tree (compiled_filter.cpp)

 private:
  std::vector<store::ScanPredicate> pushdown_;
  std::vector<FieldId> columns_;
  std::shared_ptr<const Node> residual_;  // null: every row matches
};

}  // namespace flowscope::query
