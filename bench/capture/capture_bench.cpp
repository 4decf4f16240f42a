// Flow meter throughput (F3): frames of corpus/tcp captures, held in memory, through
// FlowMeter::add (packet decoding, the flow table, TCP health, FTP parsing). Two shapes:
// the captures as they are, repeated (a few dozen hot flows), and copies whose IPv4 client
// addresses differ per copy (tens of thousands of concurrent flows, cache misses in the table).
// Each with nDPI application labels off (ndpi:0) and on (ndpi:1, when built with nDPI).
// Items are packets. Data from FLOWSCOPE_CORPUS (default tests/data/corpus).
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "capture/flow_meter.h"
#include "capture/pcap_source.h"

namespace flowscope::capture {
namespace {

struct Frame {
  std::vector<std::byte> bytes;
  std::size_t wire = 0;
};

std::vector<Frame> load_frames() {
  const char* env = std::getenv("FLOWSCOPE_CORPUS");
  const std::filesystem::path dir =
      std::filesystem::path(env != nullptr ? env : FLOWSCOPE_SOURCE_DIR "/tests/data/corpus") /
      "tcp";
  std::vector<Frame> frames;
  for (const char* name : {"tf_test1.pcap", "tf_bug6.pcap", "tf_udp.pcap", "tf_test3.pcap",
                           "nd_http_ipv6.pcap", "nd_windowsupdate_over_http.pcap"}) {
    auto source = PcapSource::open((dir / name).string());
    if (!source || source->link_type() != LinkType::Ethernet) continue;
    while (true) {
      auto pkt = source->next();
      if (!pkt || !pkt->has_value()) break;
      frames.push_back(
          {std::vector<std::byte>((*pkt)->data.begin(), (*pkt)->data.end()), (*pkt)->wire_length});
    }
  }
  return frames;
}

void run(benchmark::State& state, const std::vector<Frame>& frames) {
  if (frames.empty()) {
    state.SkipWithError("corpus not found (FLOWSCOPE_CORPUS)");
    return;
  }
  MeterConfig config;
  config.application_labels = state.range(0) != 0;  // nDPI, when built with it
  FlowMeter meter(config);
  SessionBatch out(4096);
  TimeNs ts = 1'700'000'000 * kNsPerSecond;
  std::uint64_t packets = 0;
  for (auto _ : state) {
    for (const Frame& f : frames) {
      meter.add(LinkType::Ethernet, f.bytes, f.wire, ts, out);
      ts += 1000;  // 1 µs per packet: a million packets per second of capture time
      if (out.size() >= 4096) out.clear();
    }
    packets += frames.size();
  }
  benchmark::DoNotOptimize(out.size());
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}

void BM_MeterHotFlows(benchmark::State& state) {
  static const std::vector<Frame> frames = load_frames();
  run(state, frames);
}
BENCHMARK(BM_MeterHotFlows)->ArgName("ndpi")->Arg(0)->Arg(1);

void BM_MeterManyFlows(benchmark::State& state) {
  static const std::vector<Frame> frames = [] {
    const std::vector<Frame> base = load_frames();
    std::vector<Frame> out;
    // 256 copies; in each, IPv4 packets of the capture's client side get 10.x.y.z addresses
    // unique to the copy, so both directions of every copy are a flow of their own.
    for (unsigned copy = 0; copy < 256; ++copy) {
      for (const Frame& f : base) {
        Frame g = f;
        if (g.bytes.size() >= 34 && g.bytes[12] == std::byte{0x08} && g.bytes[13] == std::byte{0}) {
          g.bytes[26] ^= std::byte(copy);  // source address, first byte ...
          g.bytes[30] ^= std::byte(copy);  // ... and destination: the pair stays a pair
        }
        out.push_back(std::move(g));
      }
    }
    return out;
  }();
  run(state, frames);
}
BENCHMARK(BM_MeterManyFlows)->ArgName("ndpi")->Arg(0)->Arg(1);

}  // namespace
}  // namespace flowscope::capture
