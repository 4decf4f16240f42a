#include "core/prefix_table.h"

#include <algorithm>
#include <cassert>

namespace flowscope {
namespace {

Uint128 to_u128(const IpAddress& a) { return (Uint128{a.high64()} << 64) | a.low64(); }

constexpr Uint128 kV4Lo = Uint128{0xffff} << 32;
constexpr Uint128 kV4Hi = kV4Lo | 0xffffffffu;
constexpr Uint128 kMax = ~Uint128{0};

struct Boundary {
  Uint128 start;
  std::uint32_t value;
};

// Appends a range start, keeping the list minimal: a start equal to the previous one replaces
// its value, and a value equal to the previous range's extends that range.
void emit(std::vector<Boundary>& out, Uint128 start, std::uint32_t value) {
  if (!out.empty() && out.back().start == start) {
    out.back().value = value;
    if (out.size() >= 2 && out[out.size() - 2].value == value) out.pop_back();
    return;
  }
  if (!out.empty() && out.back().value == value) return;
  out.push_back({start, value});
}

// index[b] = the last range whose start <= (b << shift), for b in [0, 2^(width - shift)];
// `start_of(i)` is the start of range i.
template <typename Key, typename StartOf>
std::vector<std::uint32_t> build_index(std::size_t ranges, StartOf start_of, unsigned key_bits,
                                       unsigned shift) {
  std::size_t buckets = std::size_t{1} << (key_bits - shift);
  std::vector<std::uint32_t> index(buckets + 1);
  std::size_t r = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    Key key = static_cast<Key>(static_cast<Key>(b) << shift);
    while (r + 1 < ranges && start_of(r + 1) <= key) ++r;
    index[b] = static_cast<std::uint32_t>(r);
  }
  index[buckets] = static_cast<std::uint32_t>(ranges - 1);
  return index;
}

// The last i in [lo, hi] with key_of(i) <= key. REQUIRES: key_of(lo) <= key.
template <typename Key, typename KeyOf>
std::size_t search(std::size_t lo, std::size_t hi, Key key, KeyOf key_of) {
  // Branch-light binary search: `len` halves each step, `base` moves without a branch.
  std::size_t base = lo;
  std::size_t len = hi - lo + 1;
  while (len > 1) {
    std::size_t half = len / 2;
    base = key_of(base + half) <= key ? base + half : base;
    len -= half;
  }
  return base;
}

}  // namespace

PrefixTable::PrefixTable() : v4_ranges_{{0, kNoValue}}, v6_starts_{0}, v6_values_{kNoValue} {
  v4_index_.assign(65537, 0);
  v6_index_.assign(65537, 0);
}

std::uint32_t PrefixTable::lookup_v4(std::uint32_t address) const {
  std::size_t b = address >> v4_shift_;
  const V4Range* ranges = v4_ranges_.data();
  std::size_t i = search(v4_index_[b], v4_index_[b + 1], address,
                         [ranges](std::size_t k) { return ranges[k].start; });
  return ranges[i].value;
}

std::uint32_t PrefixTable::lookup_v6(const IpAddress& address) const {
  Uint128 key = to_u128(address);
  std::size_t b = static_cast<std::size_t>(key >> 112);
  const Uint128* starts = v6_starts_.data();
  return v6_values_[search(v6_index_[b], v6_index_[b + 1], key,
                           [starts](std::size_t k) { return starts[k]; })];
}

std::size_t PrefixTable::memory_bytes() const {
  return v4_ranges_.capacity() * 8 + v4_index_.capacity() * 4 + v6_starts_.capacity() * 16 +
         v6_values_.capacity() * 4 + v6_index_.capacity() * 4;
}

void PrefixTableBuilder::add(const Cidr& prefix, std::uint32_t value) {
  assert(value != PrefixTable::kNoValue);
  entries_.push_back({to_u128(prefix.network()), to_u128(prefix.last()), value,
                      static_cast<std::uint8_t>(prefix.bits128()),
                      static_cast<std::uint32_t>(entries_.size())});
}

PrefixTable PrefixTableBuilder::build() {
  // Enclosing prefixes first (same start, shorter first); among duplicates the last added last.
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.lo != b.lo) return a.lo < b.lo;
    if (a.bits != b.bits) return a.bits < b.bits;
    return a.order < b.order;
  });
  std::vector<Boundary> ranges;
  ranges.reserve(entries_.size() * 2 + 1);
  emit(ranges, 0, PrefixTable::kNoValue);
  // Prefixes nest or are disjoint, so the open ones form a stack of nested ranges.
  std::vector<const Entry*> open;
  auto close_until = [&](Uint128 pos, bool all) {
    while (!open.empty() && (all || open.back()->hi < pos)) {
      const Entry* top = open.back();
      open.pop_back();
      if (top->hi != kMax) {
        emit(ranges, top->hi + 1, open.empty() ? PrefixTable::kNoValue : open.back()->value);
      }
    }
  };
  std::size_t unique = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    // A duplicate prefix: only the last added (the last in this order) counts.
    if (i + 1 < entries_.size() && entries_[i + 1].lo == e.lo && entries_[i + 1].bits == e.bits) {
      continue;
    }
    ++unique;
    close_until(e.lo, false);
    emit(ranges, e.lo, e.value);
    open.push_back(&e);
  }
  close_until(0, true);

  PrefixTable table;
  table.prefix_count_ = unique;
  table.v6_starts_.clear();
  table.v6_values_.clear();
  table.v4_ranges_.clear();
  // The IPv4 list: the range holding ::ffff:0.0.0.0, then every start inside the IPv4 space.
  auto first = std::upper_bound(ranges.begin(), ranges.end(), kV4Lo,
                                [](Uint128 k, const Boundary& r) { return k < r.start; });
  --first;  // ranges[0].start == 0 <= kV4Lo
  table.v4_ranges_.push_back({0, first->value});
  auto it = first + 1;
  for (; it != ranges.end() && it->start <= kV4Hi; ++it) {
    table.v4_ranges_.push_back({static_cast<std::uint32_t>(it->start - kV4Lo), it->value});
  }
  // The IPv6 list skips the inside of the IPv4 space (lookups of IPv4 never reach it) and
  // restarts right after it with the value in force there.
  for (auto r = ranges.begin(); r != ranges.end(); ++r) {
    if (r->start > kV4Lo && r->start <= kV4Hi) continue;
    table.v6_starts_.push_back(r->start);
    table.v6_values_.push_back(r->value);
  }
  if (it == ranges.end() || it->start != kV4Hi + 1) {
    std::uint32_t after = std::prev(it)->value;  // the range holding kV4Hi + 1
    auto pos = std::upper_bound(table.v6_starts_.begin(), table.v6_starts_.end(), kV4Hi);
    auto at = pos - table.v6_starts_.begin();
    table.v6_starts_.insert(pos, kV4Hi + 1);
    table.v6_values_.insert(table.v6_values_.begin() + at, after);
  }
  // About two IPv4 ranges per bucket: 16 to 20 index bits.
  unsigned bits = 16;
  while (bits < 20 && (std::size_t{1} << bits) < table.v4_ranges_.size() / 2) ++bits;
  table.v4_shift_ = 32 - bits;
  const auto& v4 = table.v4_ranges_;
  table.v4_index_ = build_index<std::uint32_t>(
      v4.size(), [&v4](std::size_t i) { return v4[i].start; }, 32, table.v4_shift_);
  const auto& v6 = table.v6_starts_;
  table.v6_index_ = build_index<Uint128>(
      v6.size(), [&v6](std::size_t i) { return v6[i]; }, 128, 112);
  entries_.clear();
  return table;
}

}  // namespace flowscope
