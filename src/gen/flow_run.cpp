// `gen flows`: settings into a GenConfig, and the paced send / pcap write loop (flow_run.h).
#include "gen/flow_run.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "core/ip_address.h"
#include "core/time.h"
#include "decode/flow_encoder.h"

namespace flowscope::gen {
namespace {

// The default start when a seed is given without a start: output must not depend on the wall
// clock. 2026-01-01T00:00:00Z.
constexpr std::int64_t kSeededStartMs = 1'767'225'600'000;
// The simulated rate when rate 0 (as fast as possible) still needs timestamps.
constexpr double kUnpacedRate = 100'000;
constexpr std::size_t kSendBatch = 64;

Error invalid(std::string message) { return Error{ErrorCode::InvalidArgument, std::move(message)}; }

// Datagrams copied out of the generator until a sendmmsg batch is full or pacing says wait.
class SendQueue {
 public:
  explicit SendQueue(UdpSender& sender) : sender_(sender) {}
  Result<void> add(std::span<const std::byte> payload) {
    buffer_.buffer().insert(buffer_.buffer().end(), payload.begin(), payload.end());
    buffer_.close_datagram();
    if (buffer_.size() >= kSendBatch) return flush();
    return {};
  }
  Result<void> flush() {
    if (buffer_.empty()) return {};
    views_.clear();
    for (std::size_t i = 0; i < buffer_.size(); ++i) views_.push_back(buffer_.at(i));
    if (auto r = sender_.send(views_); !r) return r.error();
    buffer_.clear();
    return {};
  }

 private:
  UdpSender& sender_;
  decode::DatagramBuffer buffer_;
  std::vector<std::span<const std::byte>> views_;
};

}  // namespace

Result<GenConfig> make_gen_config(const FlowRunSettings& opt,
                                  const std::function<void(const std::string&)>& warn) {
  auto format = decode::parse_export_format(opt.format);
  if (!format) return invalid("--format: " + format.error().message);
  if (opt.to.empty() && opt.pcap.empty()) {
    return invalid("nothing to do: give --to HOST:PORT to send, --pcap FILE to write, or both");
  }
  if (opt.count == 0 && opt.duration.empty()) {
    return invalid("give --count N (flows) or --duration D (e.g. 30s) so that gen ends");
  }
  if (opt.rate < 0) return invalid("--rate: must be 0 (as fast as possible) or more flows/s");
  if (opt.exporters < 1 || opt.exporters > 250) return invalid("--exporters: 1 to 250");
  if (opt.mtu < 256 || opt.mtu > 65000) return invalid("--mtu: 256 to 65000 bytes");
  if (opt.servers < 1 || opt.servers > 131000) return invalid("--servers: 1 to 131000");
  if (opt.clients < 1 || opt.clients > 16'000'000) return invalid("--clients: 1 to 16000000");
  if (opt.zipf <= 0) return invalid("--zipf: the exponent must be above 0 (1.1 is typical)");
  if (*format == decode::ExportFormat::NetflowV5 && opt.sampling > 0x3FFF) {
    return invalid("--sampling: NetFlow v5 headers hold an interval of at most 16383");
  }
  if (opt.withdraw_every != 0 && *format != decode::ExportFormat::Ipfix) {
    return invalid("--withdraw-every: template withdrawal exists in IPFIX only (--format ipfix)");
  }
  GenConfig c;
  c.format = *format;
  c.rate = opt.rate > 0 ? opt.rate : kUnpacedRate;
  c.count = opt.count;
  if (!opt.duration.empty()) {
    auto d = parse_duration(opt.duration);
    if (!d || d->count() <= 0) {
      return invalid("--duration \"" + opt.duration + "\" is not a duration; use e.g. 30s or 5m");
    }
    c.duration = *d;
  }
  c.exporters = opt.exporters;
  c.sampling = opt.sampling;
  c.mtu = opt.mtu;
  c.template_every = opt.template_every;
  c.restart_every = opt.restart_every;
  c.withdraw_every = opt.withdraw_every;
  c.model.clients = opt.clients;
  c.model.servers = opt.servers;
  c.model.zipf_exponent = opt.zipf;
  // NetFlow v5 carries IPv4 only: its default mix has no IPv6.
  c.model.ipv6_share =
      opt.ipv6_share.value_or(c.format == decode::ExportFormat::NetflowV5 ? 0.0 : 0.2);
  if (c.model.ipv6_share < 0 || c.model.ipv6_share > 1) return invalid("--ipv6-share: 0 to 1");
  if (c.format == decode::ExportFormat::NetflowV5 && c.model.ipv6_share > 0 && warn) {
    warn("NetFlow v5 cannot carry IPv6; those flows are not sent");
  }
  const TimeContext now = TimeContext::system();
  if (!opt.start.empty()) {
    auto t = parse_time(opt.start, now);
    if (!t) return invalid("--start: " + t.error().message);
    c.start = *t;
  } else {
    c.start = opt.seed ? time_from_ms(kSeededStartMs) : now.now;
  }
  c.seed = opt.seed ? *opt.seed : std::random_device{}();
  return c;
}

Result<FlowRunSummary> run_flows(const GenConfig& config, UdpSender* sender, PcapWriter* pcap,
                                 bool paced,
                                 const std::function<void(const FlowRunProgress&)>& progress,
                                 const std::atomic<bool>* cancel) {
  UdpEndpoints udp{0, 0, 0x7F000001, decode::default_port(config.format)};
  if (sender != nullptr) {
    const std::string& dest = sender->destination();
    const std::size_t colon = dest.rfind(':');
    udp.dst_port = static_cast<std::uint16_t>(std::stoul(dest.substr(colon + 1)));
    if (auto a = IpAddress::parse(dest.substr(0, colon)); a && a->is_v4()) {
      udp.dst_ip = a->v4_value();
    }
  }
  FlowGenerator generator(config);
  std::optional<SendQueue> queue;
  if (sender != nullptr) queue.emplace(*sender);
  paced = paced && sender != nullptr;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point real_start = Clock::now();
  Clock::time_point next_progress = real_start + std::chrono::milliseconds(500);
  FlowRunSummary summary;
  for (;;) {
    if (!summary.cancelled && cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      summary.cancelled = true;
      generator.stop();  // the pending flows go out in the last datagrams below
    }
    const auto datagrams = generator.next();
    if (datagrams.empty()) break;
    if (paced) {
      // Datagrams leave when the simulated clock says they are due: the rate holds over any
      // span, and sends between two due times go out in one sendmmsg batch.
      const Clock::time_point due = real_start + (datagrams.front().time - config.start);
      if (due > Clock::now()) {
        if (auto r = queue->flush(); !r) return r.error();
        std::this_thread::sleep_until(due);
      }
    }
    for (const GenDatagram& d : datagrams) {
      summary.bytes += d.payload.size();
      if (pcap != nullptr) {
        udp.src_ip = d.exporter_ip;
        udp.src_port = static_cast<std::uint16_t>(50000 + d.exporter);
        if (auto r = pcap->write(d.payload, d.time, udp); !r) return r.error();
      }
      if (queue) {
        if (auto r = queue->add(d.payload); !r) return r.error();
      }
    }
    if (progress && Clock::now() >= next_progress) {
      progress({generator.flows(), generator.datagrams(),
                std::chrono::duration<double>(Clock::now() - real_start).count()});
      next_progress += std::chrono::milliseconds(500);
    }
  }
  if (queue) {
    if (auto r = queue->flush(); !r) return r.error();
  }
  if (pcap != nullptr) {
    if (auto r = pcap->close(); !r) return r.error();
  }
  summary.seconds =
      std::max(1e-9, std::chrono::duration<double>(Clock::now() - real_start).count());
  summary.flows = generator.flows();
  summary.datagrams = generator.datagrams();
  summary.restarts = generator.restarts();
  return summary;
}

}  // namespace flowscope::gen
