#include "gen/flow_generator.h"

#include <algorithm>
#include <cmath>

namespace flowscope::gen {
namespace {

// An exporter's flows wait at most this long for a full datagram (an active export timeout).
constexpr DurationMs kMaxWait{1000};
// Exporters have been up for an hour when the generator starts, as on a real network.
constexpr DurationMs kUptimeAtStart{3'600'000};

}  // namespace

FlowGenerator::FlowGenerator(const GenConfig& config)
    : config_(config), model_(config.model, config.seed), pick_(config.seed ^ 0x5DEECE66DULL) {
  for (unsigned k = 0; k < config.exporters; ++k) {
    Exporter e;
    e.ip = 0xC0000201u + k;  // 192.0.2.1 + k (RFC 5737 documentation range)
    decode::ExporterConfig ec;
    ec.source_id = k + 1;
    ec.agent = IpAddress::v4(e.ip);
    ec.sampling = config.sampling;
    ec.mtu = config.mtu;
    ec.refresh_every = std::max<std::uint32_t>(1, config.template_every);
    e.encoder = decode::make_encoder(config.format, ec, config.start - kUptimeAtStart);
    e.next_restart = config.restart_every;
    e.next_withdraw = config.withdraw_every;
    exporters_.push_back(std::move(e));
  }
}

TimeMs FlowGenerator::due(std::uint64_t flow) const {
  return config_.start +
         DurationMs(static_cast<std::int64_t>(std::floor(double(flow) * 1000.0 / config_.rate)));
}

void FlowGenerator::flush(unsigned exporter_idx, TimeMs now) {
  Exporter& e = exporters_[exporter_idx];
  if (e.pending.empty()) return;
  const std::size_t first = buffer_.size();
  (void)e.encoder->encode(e.pending, 0, e.pending.size(), now, buffer_);
  e.pending.clear();
  for (std::size_t i = first; i < buffer_.size(); ++i) {
    ready_.push_back({{}, now, exporter_idx, e.ip});
  }
  const std::uint64_t sent = e.encoder->datagrams();
  // Scripted events take effect after the datagram that reached the count.
  if (config_.restart_every != 0 && sent >= e.next_restart) {
    e.encoder->restart(now);
    e.next_restart = sent + config_.restart_every;
    ++restarts_;
  }
  if (config_.withdraw_every != 0 && config_.format == decode::ExportFormat::Ipfix &&
      sent >= e.next_withdraw) {
    e.encoder->withdraw_templates();
    e.next_withdraw = sent + config_.withdraw_every;
    ++withdrawals_;
  }
}

std::span<const GenDatagram> FlowGenerator::next() {
  buffer_.clear();
  ready_.clear();
  while (ready_.empty() && !finished_) {
    const TimeMs now = due(flows_);
    const bool by_count = config_.count != 0 && flows_ >= config_.count;
    const bool by_time = config_.duration.count() != 0 && now - config_.start >= config_.duration;
    if (by_count || by_time || stopping_) {
      for (unsigned k = 0; k < exporters_.size(); ++k) flush(k, now);
      finished_ = true;
      break;
    }
    const auto k = static_cast<unsigned>(pick_.below(exporters_.size()));
    Exporter& e = exporters_[k];
    // Fill datagrams to the MTU: flush first when a worst-case session (two IPv6 records in a
    // new set) might not fit the next datagram.
    const decode::FlowEncoder& enc = *e.encoder;
    const std::size_t worst =
        std::max(enc.record_cost(true, true) + enc.record_cost(true, false),
                 enc.record_cost(false, true) + enc.record_cost(false, false));
    if (!e.pending.empty() && e.pending_cost + worst > enc.datagram_budget()) {
      flush(k, now);
    }
    if (e.pending.empty()) {
      e.oldest = now;
      e.pending_cost = 0;
      e.last_family = -1;
    }
    const std::size_t before = e.pending.size();
    const std::size_t max_rows =
        config_.count != 0
            ? static_cast<std::size_t>(std::min<std::uint64_t>(2, config_.count - flows_))
            : 2;
    flows_ += model_.add_session(now, e.pending, max_rows);
    const auto& src = e.pending.column(FieldId::SrcAddr).vec<IpAddress>();
    for (std::size_t row = before; row < e.pending.size(); ++row) {
      const int family = src[row].is_v4() ? 0 : 1;
      e.pending_cost += enc.record_cost(family == 1, family != e.last_family);
      e.last_family = family;
    }
    for (unsigned j = 0; j < exporters_.size(); ++j) {
      if (!exporters_[j].pending.empty() && now - exporters_[j].oldest >= kMaxWait) flush(j, now);
    }
  }
  for (std::size_t i = 0; i < ready_.size(); ++i) ready_[i].payload = buffer_.at(i);
  datagrams_ += ready_.size();
  return ready_;
}

}  // namespace flowscope::gen
