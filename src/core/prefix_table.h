#pragma once
// PrefixTable: longest-prefix match from addresses to 32-bit values, for millions of prefixes
// (IP groups, GeoIP ranges, permissions). Build once with PrefixTableBuilder, then look up from
// any number of threads; a reload builds a new table and swaps it in.
//
// Layout: the nested prefixes are flattened into a sorted list of disjoint ranges, each holding
// the value of its longest covering prefix, so a lookup is one search and needs no backtracking.
// IPv4 keeps its own list of (32-bit start, value) pairs, so the search and the value share cache
// lines; a bucket index over the top 16-20 bits of the address (sized to about two ranges per
// bucket) leaves a search of one or two steps. IPv6 has 128-bit starts and a 16-bit index.
// Memory is about 8 bytes per IPv4 range and 20 per IPv6 range, plus the bucket indexes.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/cidr.h"

namespace flowscope {

__extension__ typedef unsigned __int128 Uint128;

class PrefixTable {
 public:
  static constexpr std::uint32_t kNoValue = 0xffffffffu;

  PrefixTable();

  // The value of the longest prefix containing `address`, or kNoValue.
  std::uint32_t lookup(const IpAddress& address) const {
    return address.is_v4() ? lookup_v4(address.v4_value()) : lookup_v6(address);
  }
  std::optional<std::uint32_t> find(const IpAddress& address) const {
    std::uint32_t v = lookup(address);
    return v == kNoValue ? std::nullopt : std::optional<std::uint32_t>(v);
  }
  // For an IPv4 address in host order.
  std::uint32_t lookup_v4(std::uint32_t address) const;

  std::size_t prefix_count() const { return prefix_count_; }
  std::size_t range_count() const { return v4_ranges_.size() + v6_starts_.size(); }
  std::size_t memory_bytes() const;

 private:
  friend class PrefixTableBuilder;
  std::uint32_t lookup_v6(const IpAddress& address) const;

  struct V4Range {
    std::uint32_t start;
    std::uint32_t value;
  };
  // Range i covers [start[i], start[i+1]); the first starts at 0, so the ranges tile the space.
  std::vector<V4Range> v4_ranges_;
  // index[b] = the range holding key (b << shift); 2^bits + 1 entries.
  std::vector<std::uint32_t> v4_index_;
  unsigned v4_shift_ = 16;
  std::vector<Uint128> v6_starts_;
  std::vector<std::uint32_t> v6_values_;
  std::vector<std::uint32_t> v6_index_;
  std::size_t prefix_count_ = 0;
};

class PrefixTableBuilder {
 public:
  // Adds a prefix; a prefix added twice keeps the value added last.
  // REQUIRES: value != PrefixTable::kNoValue.
  void add(const Cidr& prefix, std::uint32_t value);
  std::size_t size() const { return entries_.size(); }
  // Builds the table; the builder is left empty.
  PrefixTable build();

 private:
  struct Entry {
    Uint128 lo;
    Uint128 hi;
    std::uint32_t value;
    std::uint8_t bits;
    std::uint32_t order;  // insertion order, for "last added wins"
  };
  std::vector<Entry> entries_;
};

}  // namespace flowscope
