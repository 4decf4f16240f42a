// The two costs of `flowscope gen flows`: drawing sessions from the traffic model, and encoding a
// batch of flows into datagrams per export format (the encoders F3's exporter reuses). Data: 4096
// flows from the model with seed 1 (IPv6 share 0.2; 0 for v5). Reports flows/s (items) and
// datagram bytes/s.
#include <benchmark/benchmark.h>

#include "decode/flow_encoder.h"

#include "gen/flow_model.h"

namespace flowscope {
namespace {

const TimeMs kNow = time_from_ms(1'767'225'600'000);

FlowBatch model_batch(double ipv6_share) {
  gen::FlowModelConfig config;
  config.ipv6_share = ipv6_share;
  gen::FlowModel model(config, 1);
  FlowBatch batch(4096);
  while (batch.size() < 4096) (void)model.add_session(kNow, batch);
  return batch;
}

void BM_Model(benchmark::State& state) {
  gen::FlowModel model(gen::FlowModelConfig{}, 1);
  FlowBatch batch(4096);
  for (auto _ : state) {
    batch.clear();
    while (batch.size() < 4096) (void)model.add_session(kNow, batch);
    benchmark::DoNotOptimize(batch.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 4096);
}
BENCHMARK(BM_Model);

void BM_Encode(benchmark::State& state, decode::ExportFormat format) {
  const FlowBatch batch = model_batch(format == decode::ExportFormat::NetflowV5 ? 0.0 : 0.2);
  decode::ExporterConfig config;
  config.sampling = 100;
  auto encoder = decode::make_encoder(format, config, kNow - DurationMs(3'600'000));
  decode::DatagramBuffer out;
  std::size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(encoder->encode(batch, 0, batch.size(), kNow, out));
    bytes += out.total_bytes();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK_CAPTURE(BM_Encode, v5, decode::ExportFormat::NetflowV5);
BENCHMARK_CAPTURE(BM_Encode, v9, decode::ExportFormat::NetflowV9);
BENCHMARK_CAPTURE(BM_Encode, ipfix, decode::ExportFormat::Ipfix);
BENCHMARK_CAPTURE(BM_Encode, sflow, decode::ExportFormat::Sflow);

}  // namespace
}  // namespace flowscope
