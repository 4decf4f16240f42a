#pragma once
// FixedKeyAggregator: the grouping behind stat queries and rollups when every group-by field has
// a fixed width (addresses, numbers, countries; no text) and every sum is a 64-bit counter. The
// key of a row is a few 64-bit words (validity bits, values, the time bucket) in a flat
// open-addressing table; keys, sums and counts live in per-aggregator arrays (no allocation per
// group). It groups exactly as store::Aggregator does (same keys, sums, counts, bucket rule), so
// results do not depend on which one ran; a rollup row weighs its `sessions`.
//
// Callers may read the groups as packed words (key(), sums(), count()) instead of finish()'s
// SessionBatch, which costs every column per group.
//
// Threads: one aggregator per thread; merge() per-thread aggregators of the same request.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/record_batch.h"
#include "store/backend.h"
#include "store/flat_key_table.h"

namespace flowscope::store {

class FixedKeyAggregator {
 public:
  // How a row's start_time becomes its bucket: floor to the bucket (store::Aggregator), or,
  // for rollups, floor of the time clamped into the partitions' range (partition.h).
  enum class BucketRule : std::uint8_t { Floor, PartitionTime };

  // nullopt when the request needs the general aggregator (text keys, too many key words,
  // sums that are not 64-bit counters).
  static std::optional<FixedKeyAggregator> create(const AggregateRequest& request,
                                                  BucketRule rule = BucketRule::Floor);
  // The columns a scan must fill for add().
  std::vector<FieldId> scan_columns() const;
  // Adds rows `rows` of `batch`, or every row.
  void add(const SessionBatch& batch, std::span<const std::uint32_t> rows);
  void add(const SessionBatch& batch);
  // Adds the groups of `other`. REQUIRES: `other` was made for the same request.
  void merge(const FixedKeyAggregator& other);
  AggregateResult finish(ScanStats stats) &&;

  // The groups of per-thread aggregators (of one request) regrouped into `parts` aggregators
  // whose groups are disjoint (by hash), merged on `parts` threads.
  static std::vector<FixedKeyAggregator> repartition(std::vector<FixedKeyAggregator>&& from,
                                                     unsigned parts);

  // Packed access. Key words of a group: word 0 has bit k set when group_by[k] is present;
  // then per group_by field its words (absent: zero): an address is two words (its high64()
  // and low64()), any other value one (the unsigned value; an int64 as its bits; a country as
  // (code[0] << 8) | code[1]); then the bucket start when bucket_ms > 0.
  const AggregateRequest& request() const { return request_; }
  std::size_t groups() const { return table_.size(); }
  std::size_t key_words() const { return words_; }
  // The first word of group_by[field_index] in a key.
  std::size_t word_offset(std::size_t field_index) const { return offsets_[field_index]; }
  const std::uint64_t* key(std::size_t group) const { return table_.key(group); }
  // request().sums.size() sums.
  const std::uint64_t* sums(std::size_t group) const { return &sums_[group * nsums_]; }
  std::uint64_t count(std::size_t group) const { return counts_[group]; }
  std::int64_t bucket(std::size_t group) const {
    return static_cast<std::int64_t>(table_.key(group)[words_ - 1]);
  }

 private:
  static constexpr std::size_t kMaxWords = 12;
  static constexpr std::size_t kMaxSums = 8;
  FixedKeyAggregator() = default;
  std::uint32_t find_or_insert(const std::uint64_t* key, std::uint64_t hash);
  template <bool kAll>
  void add_rows(const SessionBatch& batch, std::span<const std::uint32_t> rows);

  AggregateRequest request_;
  BucketRule rule_ = BucketRule::Floor;
  std::size_t words_ = 0;  // per key
  std::size_t nsums_ = 0;
  std::vector<std::size_t> offsets_;  // per group_by field
  FlatKeyTable table_;
  std::vector<std::uint64_t> sums_;    // nsums_ per group
  std::vector<std::uint64_t> counts_;  // per group
};

}  // namespace flowscope::store
