// Store micro benchmarks (docs/bench.md): ingest sessions/s into the embedded store (WAL,
// tail, flushes into zstd segments included), bytes per session on disk, and a full scan with a
// one-column predicate in rows/s from the page cache. Sessions are synthetic but shaped like
// real traffic: increasing times with jitter, clients from a /16, a few hundred servers, a
// handful of service ports, heavy-tailed byte counts, a few exporters and interfaces.
#include <cmath>
#include <filesystem>
#include <random>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include "store/embedded_store.h"

namespace flowscope::store {
namespace {

constexpr std::size_t kBatchRows = 65536;
constexpr std::int64_t kT0 = 1'764'000'000'000;

SessionBatch synthetic_batch(std::uint64_t first_id, std::size_t rows, std::mt19937_64& rng) {
  SessionBatch b(rows);
  static constexpr std::uint16_t kPorts[] = {443, 443, 443, 80, 53, 53, 123, 22, 993, 8080};
  static constexpr const char* kApps[] = {"https", "https", "http", "dns", "ntp", "ssh"};
  std::lognormal_distribution<double> bytes_dist(7.0, 2.0);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t r = b.add_row();
    const std::uint64_t id = first_id + i;
    const std::int64_t start =
        kT0 + static_cast<std::int64_t>(id) * 2 + static_cast<std::int64_t>(rng() % 500);
    const std::uint64_t cln_bytes = static_cast<std::uint64_t>(bytes_dist(rng)) + 40;
    const std::uint64_t srv_bytes = static_cast<std::uint64_t>(bytes_dist(rng)) + 40;
    const std::size_t port = rng() % std::size(kPorts);
    b.set<FieldId::SessionId>(r, id);
    b.set<FieldId::StartTime>(r, start);
    b.set<FieldId::EndTime>(r, start + static_cast<std::int64_t>(rng() % 30'000));
    b.set<FieldId::ClnAddr>(r,
                            IpAddress::v4(0x0A0A0000u | static_cast<std::uint32_t>(rng() % 65536)));
    b.set<FieldId::SrvAddr>(r,
                            IpAddress::v4(0xC6336400u + static_cast<std::uint32_t>(rng() % 300)));
    b.set<FieldId::ClnPort>(r, static_cast<std::uint16_t>(32768 + rng() % 28000));
    b.set<FieldId::SrvPort>(r, kPorts[port]);
    b.set<FieldId::Proto>(
        r, static_cast<std::uint8_t>(kPorts[port] == 53 || kPorts[port] == 123 ? 17 : 6));
    b.set<FieldId::ClnBytes>(r, cln_bytes);
    b.set<FieldId::SrvBytes>(r, srv_bytes);
    b.set<FieldId::ClnPackets>(r, cln_bytes / 700 + 1);
    b.set<FieldId::SrvPackets>(r, srv_bytes / 900 + 1);
    b.set<FieldId::Exporter>(r, IpAddress::v4(0xC0000201u + static_cast<std::uint32_t>(rng() % 3)));
    b.set<FieldId::InIf>(r, static_cast<std::uint32_t>(1 + rng() % 4));
    b.set<FieldId::OutIf>(r, static_cast<std::uint32_t>(1 + rng() % 4));
    b.set<FieldId::TcpFlags>(r, 0x1B);
    b.set<FieldId::Sides>(r, 2);
    b.set<FieldId::Version>(r, 10);
    b.set<FieldId::SrvAs>(r, static_cast<std::uint32_t>(15169 + rng() % 5));
    b.set<FieldId::Application>(r, kApps[rng() % std::size(kApps)]);
  }
  return b;
}

std::filesystem::path temp_dir() {
  std::string tmpl = "/tmp/flowscope-store-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

std::vector<SessionBatch> batches(std::size_t n) {
  std::mt19937_64 rng(42);
  std::vector<SessionBatch> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(synthetic_batch(i * kBatchRows, kBatchRows, rng));
  return out;
}

std::uint64_t segment_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir / "raw")) {
    if (f.is_regular_file()) total += f.file_size();
  }
  return total;
}

// Ingest of 2M sessions per iteration into a fresh store: WAL writes, the 1 s sync thread,
// and flushes of 1M-row tails into zstd segments; close() seals the rest.
void BM_StoreIngest(benchmark::State& state) {
  const auto input = batches(32);
  std::uint64_t rows = 0;
  double bytes_per_session = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto dir = temp_dir();
    StoreOptions o;
    o.dir = dir;
    state.ResumeTiming();
    auto store = EmbeddedStore::open(o);
    if (!store) state.SkipWithError(store.error().message.c_str());
    for (const SessionBatch& b : input) {
      if (!(*store)->append(b)) state.SkipWithError("append failed");
    }
    if (!(*store)->close()) state.SkipWithError("close failed");
    rows += input.size() * kBatchRows;
    state.PauseTiming();
    bytes_per_session = double(segment_bytes(dir)) / double(input.size() * kBatchRows);
    store->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  state.counters["bytes_per_session"] = bytes_per_session;
}
BENCHMARK(BM_StoreIngest)->Unit(benchmark::kMillisecond)->UseRealTime();

// A full scan of 2M sealed sessions with one predicate (srv_port = 22, 1 in 10 rows), the
// predicate column projected: what "count where" costs.
void BM_StoreScanOnePredicate(benchmark::State& state) {
  const auto dir = temp_dir();
  StoreOptions o;
  o.dir = dir;
  auto store = EmbeddedStore::open(o);
  if (!store) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }
  const auto input = batches(32);
  for (const SessionBatch& b : input) (void)(*store)->append(b);
  (void)(*store)->flush();
  ScanRequest req;
  req.columns = {FieldId::SrvPort};
  req.predicates = {ScanPredicate::equals<FieldId::SrvPort>(22)};
  std::uint64_t rows = 0, hits = 0;
  for (auto _ : state) {
    auto r = (*store)->scan(req, [&](const SessionBatch& b) {
      hits += b.size();
      return true;
    });
    if (!r) state.SkipWithError(r.error().message.c_str());
    rows += input.size() * kBatchRows;
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreScanOnePredicate)->Unit(benchmark::kMillisecond);

// Recovery: replaying a WAL of 2M sessions (nothing sealed) into the tail at open.
void BM_StoreWalReplay(benchmark::State& state) {
  const auto dir = temp_dir();
  std::uint64_t wal_bytes = 0;
  {
    StoreOptions o;
    o.dir = dir;
    o.flush_rows = std::size_t{1} << 40;  // never flush: everything stays in the WAL
    auto store = EmbeddedStore::open(o);
    if (!store) {
      state.SkipWithError(store.error().message.c_str());
      return;
    }
    for (const SessionBatch& b : batches(32)) (void)(*store)->append(b);
    (void)(*store)->sync();
    wal_bytes = (*store)->wal_bytes();
    // The WAL as a crash would leave it (close() below seals and trims it).
    std::filesystem::copy(dir / "wal", dir / "wal.keep");
  }
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir / "raw");
    std::filesystem::remove_all(dir / "wal");
    std::filesystem::remove(dir / "CHECKPOINT");
    std::filesystem::copy(dir / "wal.keep", dir / "wal");
    StoreOptions o;
    o.dir = dir;
    o.read_only = true;
    state.ResumeTiming();
    auto store = EmbeddedStore::open(o);
    if (!store || (*store)->recovery().wal_rows != 32 * kBatchRows) {
      state.SkipWithError("replay failed");
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(wal_bytes * state.iterations()));
  state.SetItemsProcessed(static_cast<std::int64_t>(32 * kBatchRows * state.iterations()));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreWalReplay)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flowscope::store
