// Decoding NetFlow v5, v9 and IPFIX export packets from the corpus (corpus/*/dat: raw UDP
// payloads) into a reused FlowBatch, templates cached. Reports records/s (items) and bytes/s.
// Goal (issue F2): >= 10M records/s per core for v9/IPFIX.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <benchmark/benchmark.h>

#include "decode/flow_decoder.h"

namespace flowscope {
namespace {

std::filesystem::path corpus_dir() {
  if (const char* env = std::getenv("FLOWSCOPE_CORPUS"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "tests" / "data" / "corpus";
}

std::vector<std::byte> read_dat(const std::string& relative) {
  std::ifstream in(corpus_dir() / relative, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) out[i] = static_cast<std::byte>(c[i]);
  return out;
}

// `setup` packets teach the templates once; `data` is decoded in the loop.
void run(benchmark::State& state, const std::vector<std::string>& setup, const std::string& data) {
  decode::FlowDecoder decoder;
  FlowBatch batch(4096);
  const IpAddress exporter = IpAddress::v4(0x0A000001);
  for (const auto& s : setup) (void)decoder.decode({read_dat(s), exporter, {}}, batch);
  const std::vector<std::byte> packet = read_dat(data);
  batch.clear();
  if (packet.empty() || decoder.decode({packet, exporter, {}}, batch) == 0) {
    state.SkipWithError("corpus packet not found or not decodable; set FLOWSCOPE_CORPUS");
    return;
  }
  // Many packets per batch, as a collector fills a batch before handing it on.
  constexpr int kPacketsPerBatch = 64;
  std::size_t records = 0;
  for (auto _ : state) {
    batch.clear();
    for (int i = 0; i < kPacketsPerBatch; ++i) {
      records += decoder.decode({packet, exporter, {}}, batch);
    }
    benchmark::DoNotOptimize(batch.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
  state.SetBytesProcessed(state.iterations() * kPacketsPerBatch *
                          static_cast<std::int64_t>(packet.size()));
}

void BM_DecodeNetflowV5(benchmark::State& state) {
  run(state, {}, "netflow/dat/netflow5_test_microtik.dat");
}
void BM_DecodeNetflowV9(benchmark::State& state) {
  run(state, {"netflow/dat/netflow9_test_macaddr_tpl.dat"},
      "netflow/dat/netflow9_test_macaddr_data.dat");
}
void BM_DecodeIpfix(benchmark::State& state) {
  run(state, {"ipfix/dat/ipfix_test_mikrotik_tpl.dat"},
      "ipfix/dat/ipfix_test_mikrotik_data258.dat");
}
void BM_DecodeIpfixIpv6(benchmark::State& state) {
  run(state, {"ipfix/dat/ipfix_test_openbsd_pflow_tpl.dat"},
      "ipfix/dat/ipfix_test_openbsd_pflow_data.dat");
}

BENCHMARK(BM_DecodeNetflowV5);
BENCHMARK(BM_DecodeNetflowV9);
BENCHMARK(BM_DecodeIpfix);
BENCHMARK(BM_DecodeIpfixIpv6);

}  // namespace
}  // namespace flowscope
