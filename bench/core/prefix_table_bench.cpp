// Longest-prefix match over a routing-table-sized set of prefixes: lookups per second for IPv4
// and IPv6, and the build time. Prefix lengths follow a BGP-like mix (mostly /24 for IPv4,
// /32-/48 for IPv6); the seed is fixed so runs compare.
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/prefix_table.h"

namespace flowscope {
namespace {

unsigned v4_length(std::mt19937_64& rng) {
  unsigned r = static_cast<unsigned>(rng() % 100);
  if (r < 60) return 24;
  if (r < 75) return 22 + static_cast<unsigned>(rng() % 2);
  if (r < 90) return 16 + static_cast<unsigned>(rng() % 6);
  return 8 + static_cast<unsigned>(rng() % 25);
}

std::vector<Cidr> make_prefixes(std::size_t v4, std::size_t v6, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Cidr> out;
  out.reserve(v4 + v6);
  for (std::size_t i = 0; i < v4; ++i) {
    out.push_back(Cidr::make(IpAddress::v4(static_cast<std::uint32_t>(rng())), v4_length(rng)));
  }
  for (std::size_t i = 0; i < v6; ++i) {
    std::uint64_t high = 0x2000000000000000ULL | (rng() >> 3);
    out.push_back(
        Cidr::make(IpAddress::from_u64(high, rng()), 32 + static_cast<unsigned>(rng() % 33)));
  }
  return out;
}

const PrefixTable& table_1m() {
  static const PrefixTable table = [] {
    PrefixTableBuilder b;
    std::uint32_t value = 0;
    for (const Cidr& c : make_prefixes(1'000'000, 200'000, 1)) b.add(c, value++);
    return b.build();
  }();
  return table;
}

void BM_PrefixTableLookupV4(benchmark::State& state) {
  const PrefixTable& table = table_1m();
  std::mt19937_64 rng(7);
  std::vector<std::uint32_t> keys(1 << 16);
  for (auto& k : keys) k = static_cast<std::uint32_t>(rng());
  std::size_t i = 0, found = 0;
  for (auto _ : state) {
    found += table.lookup_v4(keys[i++ & 0xffff]) != PrefixTable::kNoValue;
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ranges"] = static_cast<double>(table.range_count());
  state.counters["MiB"] = static_cast<double>(table.memory_bytes()) / (1 << 20);
}
BENCHMARK(BM_PrefixTableLookupV4);

void BM_PrefixTableLookupV6(benchmark::State& state) {
  const PrefixTable& table = table_1m();
  std::mt19937_64 rng(7);
  std::vector<IpAddress> keys(1 << 16);
  for (auto& k : keys) k = IpAddress::from_u64(0x2000000000000000ULL | (rng() >> 3), rng());
  std::size_t i = 0, found = 0;
  for (auto _ : state) {
    found += table.lookup(keys[i++ & 0xffff]) != PrefixTable::kNoValue;
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_PrefixTableLookupV6);

void BM_PrefixTableBuild(benchmark::State& state) {
  auto prefixes = make_prefixes(static_cast<std::size_t>(state.range(0)), 0, 3);
  for (auto _ : state) {
    PrefixTableBuilder b;
    std::uint32_t value = 0;
    for (const Cidr& c : prefixes) b.add(c, value++);
    PrefixTable t = b.build();
    benchmark::DoNotOptimize(t.range_count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_PrefixTableBuild)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flowscope
