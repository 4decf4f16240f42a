// ByteReader on a NetFlow-v5-shaped buffer: 48-byte records read field by field through bounded
// sub-readers, as decoders do. Bytes per second of input.
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/byte_reader.h"

namespace flowscope {
namespace {

void BM_ByteReaderRecords(benchmark::State& state) {
  constexpr std::size_t kRecord = 48;
  std::vector<std::byte> buf(kRecord * 30 * 64);
  std::mt19937 rng(1);
  for (auto& b : buf) b = static_cast<std::byte>(rng());
  std::uint64_t sum = 0;
  for (auto _ : state) {
    ByteReader r(buf);
    while (r.remaining() >= kRecord) {
      ByteReader rec = r.take(kRecord);
      sum += rec.u32be();                // src
      sum += rec.u32be();                // dst
      rec.skip(4);                       // next hop
      sum += rec.u16be() + rec.u16be();  // if in/out
      sum += rec.u32be() + rec.u32be();  // packets, bytes
      sum += rec.u32be() + rec.u32be();  // first, last
      sum += rec.u16be() + rec.u16be();  // ports
      rec.skip(1);
      sum += rec.u8() + rec.u8() + rec.u8();  // flags, proto, tos
      sum += rec.u16be() + rec.u16be();       // AS
      sum += rec.u8() + rec.u8();             // masks
      rec.skip(2);
      if (rec.failed()) state.SkipWithError("short record");
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (buf.size() / kRecord)));
}
BENCHMARK(BM_ByteReaderRecords);

void BM_ByteReaderU32(benchmark::State& state) {
  std::vector<std::byte> buf(64 * 1024);
  std::mt19937 rng(2);
  for (auto& b : buf) b = static_cast<std::byte>(rng());
  std::uint64_t sum = 0;
  for (auto _ : state) {
    ByteReader r(buf);
    while (r.remaining() >= 4) sum += r.u32be();
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_ByteReaderU32);

}  // namespace
}  // namespace flowscope
