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

template <typename Key>
std::vector<std::uint32_t> build_index(const std::vector<Key>& starts, unsigned shift) {
  // index[b] = the last range whose start <= (b << shift).
  std::vector<std::uint32_t> index(65537);
  std::size_t r = 0;
  for (std::size_t b = 0; b < 65536; ++b) {
    Key key = static_cast<Key>(static_cast<Key>(b) << shift);
    while (r + 1 < starts.size() && starts[r + 1] <= key) ++r;
    index[b] = static_cast<std::uint32_t>(r);
  }
  index[65536] = static_cast<std::uint32_t>(starts.size() - 1);
  return index;
}

// The last i in [lo, hi] with starts[i] <= key. REQUIRES: starts[lo] <= key.
template <typename Key>
std::size_t search(const std::vector<Key>& starts, std::size_t lo, std::size_t hi, Key key) {
  // Branch-light binary search: `len` halves each step, `base` moves without a branch.
  const Key* base = starts.data() + lo;
  std::size_t len = hi - lo + 1;
  while (len > 1) {
    std::size_t half = len / 2;
    base = base[half] <= key ? base + half : base;
    len -= half;
  }
  return static_cast<std::size_t>(base - starts.data());
}

}  // namespace

PrefixTable::PrefixTable()
    : v4_starts_{0}, v4_values_{kNoValue}, v6_starts_{0}, v6_values_{kNoValue} {
  v4_index_.assign(65537, 0);
  v6_index_.assign(65537, 0);
}

std::uint32_t PrefixTable::lookup_v4(std::uint32_t address) const {
  std::size_t b = address >> 16;
  return v4_values_[search(v4_starts_, v4_index_[b], v4_index_[b + 1], address)];
}

std::uint32_t PrefixTable::lookup_v6(const IpAddress& address) const {
  Uint128 key = to_u128(address);
  std::size_t b = static_cast<std::size_t>(key >> 112);
  return v6_values_[search(v6_starts_, v6_index_[b], v6_index_[b + 1], key)];
}

std::size_t PrefixTable::memory_bytes() const {
  return v4_starts_.capacity() * 4 + v4_values_.capacity() * 4 + v4_index_.capacity() * 4 +
         v6_starts_.capacity() * 16 + v6_values_.capacity() * 4 + v6_index_.capacity() * 4;
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
  table.v4_starts_.clear();
  table.v4_values_.clear();
  for (const Boundary& r : ranges) {
    table.v6_starts_.push_back(r.start);
    table.v6_values_.push_back(r.value);
  }
  // The IPv4 list: the range holding ::ffff:0.0.0.0, then every start inside the IPv4 space.
  auto first = std::upper_bound(ranges.begin(), ranges.end(), kV4Lo,
                                [](Uint128 k, const Boundary& r) { return k < r.start; });
  --first;  // ranges[0].start == 0 <= kV4Lo
  table.v4_starts_.push_back(0);
  table.v4_values_.push_back(first->value);
  for (auto it = first + 1; it != ranges.end() && it->start <= kV4Hi; ++it) {
    table.v4_starts_.push_back(static_cast<std::uint32_t>(it->start - kV4Lo));
    table.v4_values_.push_back(it->value);
  }
  table.v4_index_ = build_index(table.v4_starts_, 16);
  table.v6_index_ = build_index(table.v6_starts_, 112);
  entries_.clear();
  return table;
}

}  // namespace flowscope
