#pragma once
// A faster stand-in for store::Aggregator on the scan path of execute_stat (internal to
// flowscope_query), for the common case: every group-by field has a fixed width (addresses,
// numbers, countries; no text) and every sum is a 64-bit counter. The key of a row is a few
// 64-bit words (validity bits, values, the bucket) in an open-addressing table, instead of a
// byte string in a node map. It groups exactly as store::Aggregator does (same keys, sums,
// counts, bucket rule), so results do not depend on which one ran. One thread.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/record_batch.h"
#include "store/backend.h"

namespace flowscope::query {

class FixedKeyAggregator {
 public:
  // nullopt when the request needs the general aggregator (text keys, too many key words,
  // sums that are not 64-bit counters).
  static std::optional<FixedKeyAggregator> create(const store::AggregateRequest& request);
  std::vector<FieldId> scan_columns() const;
  // Adds rows `rows` of `batch`.
  void add(const SessionBatch& batch, std::span<const std::uint32_t> rows);
  store::AggregateResult finish(store::ScanStats stats) &&;

 private:
  static constexpr std::size_t kMaxWords = 12;
  FixedKeyAggregator() = default;
  std::uint32_t find_or_insert(const std::uint64_t* key, std::uint64_t hash);
  void grow();

  store::AggregateRequest request_;
  std::size_t words_ = 0;              // per key
  std::vector<std::uint64_t> keys_;    // words_ per group
  std::vector<std::uint64_t> hashes_;  // per group
  std::vector<std::uint64_t> slots_;   // hash tag | group + 1; 0 = empty; a power of two
  std::vector<std::uint64_t> sums_;    // request.sums.size() per group
  std::vector<std::uint64_t> counts_;  // per group
};

}  // namespace flowscope::query
