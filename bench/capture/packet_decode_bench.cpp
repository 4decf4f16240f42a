// Packet decoding alone (F19 point 5): the frames of corpus/tcp captures, held in memory, through
// each of the three entry points of the layered decoder (docs/architecture.md, "Packet
// decoding"): the probe's decode_flow_packet, sFlow's summarize_packet and tcpflow's
// decode_frame. Items are frames. Data from FLOWSCOPE_CORPUS (default tests/data/corpus).
#include <cstdlib>
#include <filesystem>
#include <vector>

#include <benchmark/benchmark.h>

#include "capture/pcap_source.h"
#include "capture/tcpflow/frame_decoder.h"
#include "core/flow_packet.h"
#include "core/packet_parser.h"

namespace flowscope::capture {
namespace {

std::vector<std::vector<std::byte>> load_decode_frames() {
  const char* env = std::getenv("FLOWSCOPE_CORPUS");
  const std::filesystem::path dir =
      std::filesystem::path(env != nullptr ? env : FLOWSCOPE_SOURCE_DIR "/tests/data/corpus") /
      "tcp";
  std::vector<std::vector<std::byte>> frames;
  for (const char* name :
       {"tf_test1.pcap", "tf_bug6.pcap", "tf_udp.pcap", "tf_test3.pcap", "nd_http_ipv6.pcap",
        "nd_windowsupdate_over_http.pcap", "derived_vlan100_tf_test1.pcap", "nd_6in4tunnel.pcap"}) {
    auto source = PcapSource::open((dir / name).string());
    if (!source || source->link_type() != LinkType::Ethernet) continue;
    while (true) {
      auto pkt = source->next();
      if (!pkt || !pkt->has_value()) break;
      frames.emplace_back((*pkt)->data.begin(), (*pkt)->data.end());
    }
  }
  return frames;
}

const std::vector<std::vector<std::byte>>& frames() {
  static const std::vector<std::vector<std::byte>> f = load_decode_frames();
  return f;
}

void BM_DecodeFlowPacket(benchmark::State& state) {
  const auto& all = frames();
  if (all.empty()) return state.SkipWithError("corpus not found (FLOWSCOPE_CORPUS)");
  FlowPacket p;
  for (auto _ : state) {
    for (const auto& f : all) {
      benchmark::DoNotOptimize(decode_flow_packet(LinkType::Ethernet, f, p));
      benchmark::DoNotOptimize(p.dst_port);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * all.size()));
}
BENCHMARK(BM_DecodeFlowPacket);

void BM_SummarizePacket(benchmark::State& state) {
  const auto& all = frames();
  if (all.empty()) return state.SkipWithError("corpus not found (FLOWSCOPE_CORPUS)");
  for (auto _ : state) {
    for (const auto& f : all) {
      auto s = summarize_packet(LinkType::Ethernet, f);
      benchmark::DoNotOptimize(s);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * all.size()));
}
BENCHMARK(BM_SummarizePacket);

void BM_TcpflowDecodeFrame(benchmark::State& state) {
  const auto& all = frames();
  if (all.empty()) return state.SkipWithError("corpus not found (FLOWSCOPE_CORPUS)");
  TcpPacket packet;
  for (auto _ : state) {
    for (const auto& f : all) {
      const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(f.data()),
                                                f.size());
      benchmark::DoNotOptimize(tcpflow::decode_frame(1, bytes, static_cast<std::uint32_t>(f.size()),
                                                     PcapTime{1, 2}, packet));
      benchmark::DoNotOptimize(packet.key.dport);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * all.size()));
}
BENCHMARK(BM_TcpflowDecodeFrame);

}  // namespace
}  // namespace flowscope::capture
