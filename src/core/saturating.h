#pragma once
// Saturating arithmetic for counters summed from untrusted input (bytes, packets, session
// counts): a hostile exporter can send values whose sum passes 2^64, and a wrapped sum would
// show a total smaller than its top row. Sums clamp at kSaturated instead; whoever prints them
// says so (query/output.h write_stat). Branch-free, so the aggregation loops stay tight.
// Pure functions; any thread.

#include <cstdint>
#include <limits>

namespace flowscope {

inline constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

// a + b, or kSaturated when that passes 2^64 - 1.
constexpr std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t r = a + b;
  return r | (0 - static_cast<std::uint64_t>(r < a));
}

// a += b, saturating.
constexpr void sat_accumulate(std::uint64_t& a, std::uint64_t b) { a = sat_add(a, b); }

}  // namespace flowscope
