// Reading flow files for `flowscope import`, without the store: the nfcapd reader on files of
// tests/store/data (500 NetFlow v9 flows, LZ4 and uncompressed), into flows and into one-sided
// sessions. Items are flow records.
#include <benchmark/benchmark.h>

#include "store/file_util.h"

#include "import/nfcapd_reader.h"

namespace flowscope::import {
namespace {

std::string load(const char* name) {
  auto data = store::read_file(std::string(FLOWSCOPE_SOURCE_DIR) + "/tests/store/data/" + name);
  return data ? *data : std::string();
}

void BM_NfcapdReadFlows(benchmark::State& state, const char* name) {
  const std::string file = load(name);
  FlowBatch flows(65536);
  std::size_t records = 0;
  for (auto _ : state) {
    auto reader = NfcapdReader::from_bytes(file, name);
    if (!reader) {
      state.SkipWithError(reader.error().message.c_str());
      return;
    }
    flows.clear();
    while (reader->read_flows(flows, 65536)) {
    }
    records += flows.size();
    benchmark::DoNotOptimize(flows.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
}
BENCHMARK_CAPTURE(BM_NfcapdReadFlows, lz4, "nfcapd-gen-v9-lz4");
BENCHMARK_CAPTURE(BM_NfcapdReadFlows, uncompressed, "nfcapd-gen-v9-none");

void BM_NfcapdReadSessions(benchmark::State& state) {
  const std::string file = load("nfcapd-gen-v9-lz4");
  SessionBatch sessions(65536);
  std::size_t records = 0;
  for (auto _ : state) {
    auto reader = NfcapdReader::from_bytes(file, "f");
    sessions.clear();
    while (reader->read(sessions, 65536)) {
    }
    records += sessions.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
}
BENCHMARK(BM_NfcapdReadSessions);

}  // namespace
}  // namespace flowscope::import
