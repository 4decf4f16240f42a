#pragma once
// FlatKeyTable: an open-addressing hash index of fixed-width keys (a few 64-bit words each),
// the group index of the fixed-key aggregator and of stat merges. Keys live in one array (an
// arena: no allocation per key); a slot holds the key's number + 1 in its low 32 bits and the
// high half of its hash above, so most mismatches are told apart without touching the keys.
// Load factor at most 1/2. Not thread-safe: one table per thread.

#include <cstdint>
#include <cstring>
#include <vector>

namespace flowscope::store {

class FlatKeyTable {
 public:
  explicit FlatKeyTable(std::size_t words = 1) : words_(words), slots_(1024, 0) {}

  std::size_t words() const { return words_; }
  std::size_t size() const { return hashes_.size(); }
  const std::uint64_t* key(std::size_t i) const { return &keys_[i * words_]; }
  std::uint64_t hash(std::size_t i) const { return hashes_[i]; }

  static std::uint64_t hash_words(const std::uint64_t* key, std::size_t words) {
    std::uint64_t h = 0x51ED2701;
    for (std::size_t j = 0; j < words; ++j) {
      h ^= key[j] + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
      h *= 0xBF58476D1CE4E5B9ULL;
      h ^= h >> 31;
    }
    return h;
  }

  // The number of `key` (words() words), inserting it when new; `inserted` says which.
  std::uint32_t find_or_insert(const std::uint64_t* key, std::uint64_t hash, bool& inserted) {
    const std::size_t mask = slots_.size() - 1;
    const std::uint64_t tag = hash & kTagMask;
    std::size_t i = hash & mask;
    while (slots_[i] != 0) {
      if ((slots_[i] & kTagMask) == tag) {
        const auto g = static_cast<std::uint32_t>((slots_[i] & 0xFFFFFFFFu) - 1);
        if (std::memcmp(&keys_[g * words_], key, words_ * sizeof(std::uint64_t)) == 0) {
          inserted = false;
          return g;
        }
      }
      i = (i + 1) & mask;
    }
    const auto g = static_cast<std::uint32_t>(hashes_.size());
    keys_.insert(keys_.end(), key, key + words_);
    hashes_.push_back(hash);
    slots_[i] = tag | (std::uint64_t{g} + 1);
    if (hashes_.size() * 2 > slots_.size()) grow();
    inserted = true;
    return g;
  }

  // Appends a key known to differ from every key here, without indexing it: for callers that
  // build a table of distinct keys and never look one up. REQUIRES: no find_or_insert() after.
  std::uint32_t append_distinct(const std::uint64_t* key) {
    keys_.insert(keys_.end(), key, key + words_);
    hashes_.push_back(0);
    return static_cast<std::uint32_t>(hashes_.size() - 1);
  }

  void reserve(std::size_t keys) {
    keys_.reserve(keys * words_);
    hashes_.reserve(keys);
  }

 private:
  static constexpr std::uint64_t kTagMask = 0xFFFFFFFF00000000ULL;

  void grow() {
    std::vector<std::uint64_t> slots(slots_.size() * 2, 0);
    const std::size_t mask = slots.size() - 1;
    for (std::size_t g = 0; g < hashes_.size(); ++g) {
      std::size_t i = hashes_[g] & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = (hashes_[g] & kTagMask) | (g + 1);
    }
    slots_ = std::move(slots);
  }

  std::size_t words_;
  std::vector<std::uint64_t> keys_;    // words_ per key
  std::vector<std::uint64_t> hashes_;  // per key
  std::vector<std::uint64_t> slots_;   // a power of two
};

}  // namespace flowscope::store
