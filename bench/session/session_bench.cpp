// Stitching and enrichment throughput (issue F4: goal >= 5M sessions/s per core with warm
// caches) and the memory an open session costs in the window.
//
// Input: synthetic one-way records, both directions of each session, clients spread over the
// MaxMind test databases' networks and an IP group file's prefixes so lookups hit; 4096
// sessions (8192 records) per batch, as a collector worker would hand them over.
#include <filesystem>
#include <random>

#include <benchmark/benchmark.h>

#include "enrich/enricher.h"
#include "session/stitcher.h"

namespace flowscope {
namespace {

constexpr std::size_t kSessionsPerBatch = 4096;
constexpr std::size_t kBatches = 32;

std::filesystem::path geoip_dir() {
  return std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "tests" / "data" / "geoip";
}

std::vector<FlowBatch> make_batches() {
  std::mt19937_64 rng(42);
  // Client and server pools inside networks the test databases document (81.2.69.160/27
  // London, 2.125.160.216/29 Boxford; 1.0.0.0/24 and 12.81.92.0/22 with AS data, 67.43.156.0/24
  // Bhutan), so that most lookups hit, plus private space in IP groups.
  struct Pool {
    std::uint32_t base;
    std::uint32_t size;
  };
  const Pool clients[] = {
      {0x514245A0u, 32}, {0x027DA0D8u, 8}, {0x0A010000u, 256}, {0x0A020000u, 256}};
  const Pool servers[] = {
      {0x01000000u, 256}, {0x0C515C00u, 1024}, {0x43289C00u, 256}, {0x32720000u, 1024}};
  const std::uint16_t ports[] = {443, 80, 53, 22, 993, 3306};
  std::vector<FlowBatch> out(kBatches);
  for (std::size_t b = 0; b < kBatches; ++b) {
    FlowBatch& batch = out[b];
    batch.reserve(2 * kSessionsPerBatch);
    for (std::size_t i = 0; i < kSessionsPerBatch; ++i) {
      const Pool& cp = clients[rng() % 4];
      const Pool& sp = servers[rng() % 4];
      const IpAddress cln = IpAddress::v4(cp.base + static_cast<std::uint32_t>(rng() % cp.size));
      const IpAddress srv = IpAddress::v4(sp.base + static_cast<std::uint32_t>(rng() % sp.size));
      const auto cport = static_cast<std::uint16_t>(1024 + rng() % 60000);
      const std::uint16_t sport = ports[rng() % 6];
      const std::uint8_t proto = sport == 53 ? 17 : 6;
      const std::int64_t t = 1'700'000'000'000 + static_cast<std::int64_t>(b * 1000 + i % 1000);
      for (int dir = 0; dir < 2; ++dir) {
        const std::size_t row = batch.add_row();
        batch.set<FieldId::SrcAddr>(row, dir == 0 ? cln : srv);
        batch.set<FieldId::DstAddr>(row, dir == 0 ? srv : cln);
        batch.set<FieldId::SrcPort>(row, dir == 0 ? cport : sport);
        batch.set<FieldId::DstPort>(row, dir == 0 ? sport : cport);
        batch.set<FieldId::Proto>(row, proto);
        batch.set<FieldId::FlowPackets>(row, 10 + rng() % 100);
        batch.set<FieldId::FlowBytes>(row, 1000 + rng() % 100000);
        batch.set<FieldId::First>(row, t);
        batch.set<FieldId::Last>(row, t + 500);
        batch.set<FieldId::TcpFlags>(row, proto == 6 ? 0x1b : 0);
        batch.set<FieldId::Exporter>(row, IpAddress::v4(0xC0000201u));
        batch.set<FieldId::Version>(row, 10);
      }
    }
  }
  return out;
}

const std::vector<FlowBatch>& batches() {
  static const std::vector<FlowBatch> kBatchesData = make_batches();
  return kBatchesData;
}

// Runs stitching (and enrichment when `enricher` is given) over the batches in a loop; the
// clock advances one window per batch, so each batch's sessions close at the next one.
void run(benchmark::State& state, enrich::Enricher* enricher) {
  session::StitcherConfig config;
  config.window = std::chrono::seconds(1);
  config.max_open = 1 << 16;
  session::Stitcher stitcher(config);
  SessionBatch out(2 * kSessionsPerBatch);
  std::int64_t now = 1'800'000'000'000;
  std::size_t b = 0;
  std::uint64_t sessions = 0;
  for (auto _ : state) {
    stitcher.add(batches()[b], out);
    now += 1000;
    stitcher.advance(time_from_ms(now), out);
    if (enricher != nullptr) enricher->enrich(out);
    sessions += out.size();
    benchmark::DoNotOptimize(out.values<FieldId::ClnBytes>().data());
    out.clear();
    b = (b + 1) % kBatches;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(sessions));
  state.counters["sessions/s"] =
      benchmark::Counter(static_cast<double>(sessions), benchmark::Counter::kIsRate);
  state.counters["two_sided%"] =
      100.0 * static_cast<double>(stitcher.stats().sessions_two_sided) /
      static_cast<double>(std::max<std::uint64_t>(1, stitcher.stats().sessions));
}

void BM_Stitch(benchmark::State& state) { run(state, nullptr); }
BENCHMARK(BM_Stitch)->Unit(benchmark::kMicrosecond);

void BM_StitchEnrich(benchmark::State& state) {
  const auto dir = geoip_dir();
  if (!std::filesystem::exists(dir / "GeoLite2-City-Test.mmdb")) {
    state.SkipWithError("MaxMind test databases not found in tests/data/geoip");
    return;
  }
  auto db = enrich::GeoDb::load({dir / "GeoLite2-City-Test.mmdb", dir / "GeoLite2-ASN-Test.mmdb"});
  if (!db) {
    state.SkipWithError(db.error().message.c_str());
    return;
  }
  enrich::Reloadable<enrich::GeoDb> geo(*db);
  auto groups = enrich::IpGroups::from_ini(
      "[Campus]\nnet = 10.0.0.0/8\n[Physics]\nparent = Campus\nnet = 10.1.0.0/16\n", "bench");
  enrich::Reloadable<enrich::IpGroups> group_source(
      std::make_shared<const enrich::IpGroups>(std::move(*groups)));
  auto services = std::make_shared<enrich::ServiceTable>();
  if (!services->add_file(std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "data" / "services.tsv")) {
    state.SkipWithError("data/services.tsv missing");
    return;
  }
  enrich::Reloadable<enrich::ServiceTable> service_source(services);
  enrich::Enricher enricher({&geo, &group_source, &service_source, nullptr});
  run(state, &enricher);
  state.counters["geo_hit%"] =
      100.0 * static_cast<double>(enricher.stats().geo_hits) /
      static_cast<double>(2 * std::max<std::uint64_t>(1, enricher.stats().sessions));
}
BENCHMARK(BM_StitchEnrich)->Unit(benchmark::kMicrosecond);

// Memory per open session: one million one-way records that never meet their reverse.
void BM_OpenSessionMemory(benchmark::State& state) {
  const std::size_t open = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    session::StitcherConfig config;
    config.window = std::chrono::hours(1);
    config.max_open = open;
    session::Stitcher stitcher(config);
    FlowBatch flows(4096);
    SessionBatch out;
    for (std::size_t i = 0; i < open; ++i) {
      const std::size_t row = flows.add_row();
      flows.set<FieldId::SrcAddr>(row, IpAddress::v4(0x0A000000u + static_cast<std::uint32_t>(i)));
      flows.set<FieldId::DstAddr>(row, IpAddress::v4(0xC6336407u));
      flows.set<FieldId::SrcPort>(row, 40000);
      flows.set<FieldId::DstPort>(row, 443);
      flows.set<FieldId::Proto>(row, 6);
      flows.set<FieldId::Last>(row, 1000);
      if (flows.size() == 4096) {
        stitcher.add(flows, out);
        flows.clear();
      }
    }
    stitcher.add(flows, out);
    state.counters["open"] = static_cast<double>(stitcher.open_sessions());
    state.counters["bytes/open_session"] = static_cast<double>(stitcher.memory_bytes()) /
                                           static_cast<double>(stitcher.open_sessions());
    state.counters["bytes/slot"] = static_cast<double>(session::Stitcher::bytes_per_slot());
  }
}
BENCHMARK(BM_OpenSessionMemory)->Arg(1 << 20)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flowscope
