// `flowscope gen flows`: a synthetic exporter of NetFlow v5/v9, IPFIX and sFlow v5 (docs/gen.md).
// Draws sessions from gen::FlowModel, encodes them per exporter with the decode module's
// encoders, and sends them over UDP paced to --rate, writes them to a pcap, or both. With
// --seed the output is byte for byte the same on every run: the clock it encodes is simulated.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "cli/commands.h"
#include "core/pcap_writer.h"
#include "core/time.h"
#include "core/udp_sender.h"
#include "decode/flow_encoder.h"

#include "gen/flow_generator.h"
#include "gen/traffic_runner.h"
#include "gen/traffic_scenario.h"

namespace flowscope::cli {
namespace {

// The default start when --seed is given without --start: output must not depend on the wall
// clock. 2026-01-01T00:00:00Z.
constexpr std::int64_t kSeededStartMs = 1'767'225'600'000;
// The simulated rate when --rate 0 (as fast as possible) still needs timestamps.
constexpr double kUnpacedRate = 100'000;
constexpr std::size_t kSendBatch = 64;

struct GenOptions {
  std::string format = "v9";
  std::string to;
  std::string pcap;
  double rate = 1000;
  std::uint64_t count = 0;
  std::string duration;
  unsigned exporters = 1;
  std::uint32_t sampling = 0;
  std::optional<std::uint64_t> seed;
  std::string start;
  std::uint32_t clients = 10000;
  std::uint32_t servers = 1000;
  double zipf = 1.1;
  std::optional<double> ipv6_share;
  std::size_t mtu = 1400;
  std::uint32_t template_every = 20;
  std::uint64_t restart_every = 0;
  std::uint64_t withdraw_every = 0;
  bool quiet = false;
};

std::uint16_t default_port(decode::ExportFormat f) {
  switch (f) {
    case decode::ExportFormat::Ipfix: return 4739;
    case decode::ExportFormat::Sflow: return 6343;
    default: return 2055;
  }
}

UserError usage(std::string message) { return UserError{std::move(message), kExitUsage}; }

gen::GenConfig make_config(const GenOptions& opt) {
  auto format = decode::parse_export_format(opt.format);
  if (!format) throw usage("--format: " + format.error().message);
  if (opt.to.empty() && opt.pcap.empty()) {
    throw usage("nothing to do: give --to HOST:PORT to send, --pcap FILE to write, or both");
  }
  if (opt.count == 0 && opt.duration.empty()) {
    throw usage("give --count N (flows) or --duration D (e.g. 30s) so that gen ends");
  }
  if (opt.rate < 0) throw usage("--rate: must be 0 (as fast as possible) or more flows/s");
  if (opt.exporters < 1 || opt.exporters > 250) throw usage("--exporters: 1 to 250");
  if (opt.mtu < 256 || opt.mtu > 65000) throw usage("--mtu: 256 to 65000 bytes");
  if (opt.servers < 1 || opt.servers > 131000) throw usage("--servers: 1 to 131000");
  if (opt.clients < 1 || opt.clients > 16'000'000) throw usage("--clients: 1 to 16000000");
  if (opt.zipf <= 0) throw usage("--zipf: the exponent must be above 0 (1.1 is typical)");
  if (*format == decode::ExportFormat::NetflowV5 && opt.sampling > 0x3FFF) {
    throw usage("--sampling: NetFlow v5 headers hold an interval of at most 16383");
  }
  if (opt.withdraw_every != 0 && *format != decode::ExportFormat::Ipfix) {
    throw usage("--withdraw-every: template withdrawal exists in IPFIX only (--format ipfix)");
  }
  gen::GenConfig c;
  c.format = *format;
  c.rate = opt.rate > 0 ? opt.rate : kUnpacedRate;
  c.count = opt.count;
  if (!opt.duration.empty()) {
    auto d = parse_duration(opt.duration);
    if (!d || d->count() <= 0) {
      throw usage("--duration \"" + opt.duration + "\" is not a duration; use e.g. 30s or 5m");
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
  if (c.model.ipv6_share < 0 || c.model.ipv6_share > 1) throw usage("--ipv6-share: 0 to 1");
  if (c.format == decode::ExportFormat::NetflowV5 && c.model.ipv6_share > 0) {
    std::fprintf(stderr,
                 "flowscope: warning: NetFlow v5 cannot carry IPv6; those flows are not sent\n");
  }
  const TimeContext now = TimeContext::system();
  if (!opt.start.empty()) {
    auto t = parse_time(opt.start, now);
    if (!t) throw usage("--start: " + t.error().message);
    c.start = *t;
  } else {
    c.start = opt.seed ? time_from_ms(kSeededStartMs) : now.now;
  }
  c.seed = opt.seed ? *opt.seed : std::random_device{}();
  return c;
}

// Datagrams copied out of the generator until a sendmmsg batch is full or pacing says wait.
class SendQueue {
 public:
  explicit SendQueue(UdpSender& sender) : sender_(sender) {}
  void add(std::span<const std::byte> payload) {
    buffer_.buffer().insert(buffer_.buffer().end(), payload.begin(), payload.end());
    buffer_.close_datagram();
    if (buffer_.size() >= kSendBatch) flush();
  }
  void flush() {
    if (buffer_.empty()) return;
    views_.clear();
    for (std::size_t i = 0; i < buffer_.size(); ++i) views_.push_back(buffer_.at(i));
    if (auto r = sender_.send(views_); !r) throw UserError{r.error().message};
    buffer_.clear();
  }

 private:
  UdpSender& sender_;
  decode::DatagramBuffer buffer_;
  std::vector<std::span<const std::byte>> views_;
};

void run(const GenOptions& opt) {
  const gen::GenConfig config = make_config(opt);
  std::optional<UdpSender> sender;
  if (!opt.to.empty()) {
    auto s = UdpSender::open(opt.to);
    if (!s) throw usage(s.error().message);
    sender.emplace(std::move(*s));
    if (!sender->is_loopback()) {
      std::fprintf(stderr, "flowscope: warning: sending synthetic flows to %s, off this host\n",
                   sender->destination().c_str());
    }
  }
  std::optional<PcapWriter> pcap;
  if (!opt.pcap.empty()) {
    auto p = PcapWriter::open(opt.pcap);
    if (!p) throw UserError{p.error().message};
    pcap.emplace(std::move(*p));
  }
  // The pcap frames datagrams from each exporter's documentation address to the destination
  // (127.0.0.1 and the format's usual port unless --to names an IPv4 address).
  UdpEndpoints udp{0, 0, 0x7F000001, default_port(config.format)};
  if (sender) {
    const std::string& dest = sender->destination();
    const std::size_t colon = dest.rfind(':');
    udp.dst_port = static_cast<std::uint16_t>(std::stoul(dest.substr(colon + 1)));
    if (auto a = IpAddress::parse(dest.substr(0, colon)); a && a->is_v4()) {
      udp.dst_ip = a->v4_value();
    }
  }

  gen::FlowGenerator generator(config);
  std::optional<SendQueue> queue;
  if (sender) queue.emplace(*sender);
  const bool paced = sender && opt.rate > 0;
  const bool progress = !opt.quiet && ::isatty(STDERR_FILENO) != 0;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point real_start = Clock::now();
  Clock::time_point next_progress = real_start + std::chrono::milliseconds(500);
  std::uint64_t bytes = 0;
  for (;;) {
    const auto datagrams = generator.next();
    if (datagrams.empty()) break;
    if (paced) {
      // Datagrams leave when the simulated clock says they are due: the rate holds over any
      // span, and sends between two due times go out in one sendmmsg batch.
      const Clock::time_point due = real_start + (datagrams.front().time - config.start);
      if (due > Clock::now()) {
        queue->flush();
        std::this_thread::sleep_until(due);
      }
    }
    for (const gen::GenDatagram& d : datagrams) {
      bytes += d.payload.size();
      if (pcap) {
        udp.src_ip = d.exporter_ip;
        udp.src_port = static_cast<std::uint16_t>(50000 + d.exporter);
        if (auto r = pcap->write(d.payload, d.time, udp); !r) throw UserError{r.error().message};
      }
      if (queue) queue->add(d.payload);
    }
    if (progress && Clock::now() >= next_progress) {
      const double secs = std::chrono::duration<double>(Clock::now() - real_start).count();
      std::fprintf(stderr, "\r%llu flows, %llu datagrams, %.0f flows/s   ",
                   static_cast<unsigned long long>(generator.flows()),
                   static_cast<unsigned long long>(generator.datagrams()),
                   double(generator.flows()) / secs);
      next_progress += std::chrono::milliseconds(500);
    }
  }
  if (queue) queue->flush();
  if (pcap) {
    if (auto r = pcap->close(); !r) throw UserError{r.error().message};
  }
  const double secs =
      std::max(1e-9, std::chrono::duration<double>(Clock::now() - real_start).count());
  if (progress) std::fputc('\n', stderr);
  if (!opt.quiet) {
    std::fprintf(stderr,
                 "gen: %llu flows in %llu datagrams (%llu bytes, %s, %u exporter(s), %llu "
                 "restarts) to %s in %.3f s: %.0f flows/s, %.0f datagrams/s\n",
                 static_cast<unsigned long long>(generator.flows()),
                 static_cast<unsigned long long>(generator.datagrams()),
                 static_cast<unsigned long long>(bytes),
                 std::string(decode::format_name(config.format)).c_str(), config.exporters,
                 static_cast<unsigned long long>(generator.restarts()),
                 sender ? sender->destination().c_str() : opt.pcap.c_str(), secs,
                 double(generator.flows()) / secs, double(generator.datagrams()) / secs);
  }
}

struct TrafficOptions {
  std::string scenario;
  std::string expect;
  bool quiet = false;
};

std::atomic<bool> g_traffic_cancel{false};

void run_traffic(const TrafficOptions& opt) {
  auto scenario = gen::load_scenario(opt.scenario);
  if (!scenario) throw UserError{scenario.error().message, kExitUsage};
  // Ctrl-C ends the scenario early; the report still lists what was sent.
  std::signal(SIGINT, [](int) { g_traffic_cancel.store(true); });
  std::signal(SIGTERM, [](int) { g_traffic_cancel.store(true); });
  if (!opt.quiet) {
    std::fprintf(stderr, "gen traffic: scenario \"%s\", %zu streams on %s for at most %.1f s\n",
                 scenario->name.c_str(), scenario->streams.size(),
                 scenario->address.to_string().c_str(),
                 double(scenario->duration.count()) / 1000.0);
  }
  auto report = gen::run_scenario(*scenario, &g_traffic_cancel);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!report) throw UserError{report.error().message};
  if (!opt.expect.empty()) {
    std::FILE* f = opt.expect == "-" ? stdout : std::fopen(opt.expect.c_str(), "w");
    if (f == nullptr) throw UserError{"--expect " + opt.expect + ": cannot write the file"};
    const std::string text = gen::report_json_lines(*report);
    std::fwrite(text.data(), 1, text.size(), f);
    if (f != stdout) std::fclose(f);
  }
  if (!opt.quiet) {
    std::fprintf(stderr, "gen traffic: %llu events, %zu sessions, %llu failures%s%s\n",
                 static_cast<unsigned long long>(report->events), report->sessions.size(),
                 static_cast<unsigned long long>(report->failures),
                 report->timed_out ? "; the duration ended some streams early" : "",
                 report->cancelled ? "; cancelled" : "");
    for (const std::string& p : report->problems) std::fprintf(stderr, "  %s\n", p.c_str());
  }
  if (report->failures > 0) {
    throw UserError{"some exchanges failed (see above); is something else using the ports?"};
  }
}

}  // namespace

void register_gen(CLI::App& app) {
  CLI::App* gen =
      app.add_subcommand("gen", "Generate synthetic flow export, or real traffic on loopback");
  gen->require_subcommand(1);
  register_gen_sessions(*gen);
  gen->footer(
      "Examples:\n"
      "  flowscope gen flows --format ipfix --to 127.0.0.1:4739 --rate 2000 --duration 5m\n"
      "  flowscope gen flows --format v9 --seed 1 --count 100000 --pcap v9.pcap");
  auto opt = std::make_shared<GenOptions>();
  CLI::App* cmd = gen->add_subcommand(
      "flows", "Send synthetic NetFlow v5/v9, IPFIX or sFlow v5 export over UDP or to a pcap");
  cmd->add_option("--format", opt->format, "Export protocol: v5, v9, ipfix or sflow")
      ->check(CLI::IsMember({"v5", "v9", "ipfix", "sflow"}))
      ->capture_default_str();
  cmd->add_option("--to", opt->to,
                  "Send UDP to HOST:PORT (e.g. 127.0.0.1:2055, [::1]:4739); a warning is printed "
                  "when the address is not loopback");
  cmd->add_option("--pcap", opt->pcap,
                  "Write the datagrams to this pcap file (Ethernet/IPv4/UDP), as well as or "
                  "instead of sending them");
  cmd->add_option("--rate", opt->rate, "Flows per second (0 = as fast as possible)")
      ->capture_default_str();
  cmd->add_option("--count", opt->count, "Stop after this many flows (one-way records)");
  cmd->add_option("--duration", opt->duration, "Stop after this much time, e.g. 30s, 5m");
  cmd->add_option("--exporters", opt->exporters,
                  "Exporters, each with its own source id, templates, sequence and uptime")
      ->capture_default_str();
  cmd->add_option("--sampling", opt->sampling, "Sampling interval 1 in N (0 = unsampled)")
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed,
                  "Random seed: the same seed and options give byte-identical datagrams");
  cmd->add_option("--start", opt->start,
                  "Time of the first flow (default: now; with --seed 2026-01-01T00:00:00Z)");
  cmd->add_option("--clients", opt->clients, "Client host population (Zipf-distributed)")
      ->capture_default_str();
  cmd->add_option("--servers", opt->servers, "Server host population (Zipf-distributed)")
      ->capture_default_str();
  cmd->add_option("--zipf", opt->zipf, "Zipf exponent of host popularity")->capture_default_str();
  cmd->add_option("--ipv6-share", opt->ipv6_share,
                  "Fraction of sessions over IPv6 (default 0.2; 0 for v5)");
  cmd->add_option("--mtu", opt->mtu, "Largest datagram payload in bytes")->capture_default_str();
  cmd->add_option("--template-every", opt->template_every,
                  "Re-send templates (sFlow: counter samples) every N datagrams per exporter")
      ->capture_default_str();
  cmd->add_option("--restart-every", opt->restart_every,
                  "Restart each exporter every N of its datagrams (uptime and sequence reset)");
  cmd->add_option("--withdraw-every", opt->withdraw_every,
                  "IPFIX: withdraw and re-announce the templates every N datagrams per exporter");
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress or summary on stderr");
  cmd->footer(
      "Each session is two one-way flows (client to server and back). Hosts are Zipf-\n"
      "distributed, services weighted (443, 80, 53, 22, 25, 123, ...), packets and bytes\n"
      "log-normal, durations exponential (docs/gen.md).\n\n"
      "Examples:\n"
      "  flowscope gen flows --format v9 --to 127.0.0.1:2055 --rate 5000 --duration 1m\n"
      "  flowscope gen flows --format ipfix --to 127.0.0.1:4739 --exporters 4 --sampling 100 \\\n"
      "      --count 1000000 --restart-every 500\n"
      "  flowscope gen flows --format sflow --seed 7 --count 10000 --pcap sflow.pcap\n"
      "  flowscope gen flows --format v5 --seed 1 --count 2000 --pcap v5.pcap && \\\n"
      "      flowscope decode v5.pcap --stats");
  cmd->callback([opt] { run(*opt); });

  auto topt = std::make_shared<TrafficOptions>();
  CLI::App* traffic = gen->add_subcommand(
      "traffic", "Make real traffic on loopback from a scenario file (probe tests, demos)");
  traffic->add_option("scenario", topt->scenario, "Scenario file (TOML, docs/gen.md)")->required();
  traffic->add_option("--expect", topt->expect,
                      "Write the sessions a probe should see as JSON lines to FILE (- for "
                      "stdout)");
  traffic->add_flag("-q,--quiet", topt->quiet, "No summary on stderr");
  traffic->footer(
      "Streams: [[udp]] [[tcp]] [[icmp]] [[dns]] [[ntp]] [[snmp]] [[http]] [[ftp]], each with\n"
      "port, size, rate (events/s) and count; gen starts the servers itself and stops at the\n"
      "end of the scenario (or its duration). Only loopback addresses, unless netns names a\n"
      "network namespace made with `ip netns add`.\n\n"
      "Example scenario:\n"
      "  name = \"smoke\"\n"
      "  duration = \"10s\"\n"
      "  [[dns]]\n"
      "  count = 20\n"
      "  rate = 10\n"
      "  [[http]]\n"
      "  size = 200000\n"
      "  count = 3\n"
      "  [[ftp]]\n"
      "  mode = \"pasv\"\n\n"
      "Examples:\n"
      "  flowscope gen traffic scenario.toml\n"
      "  flowscope gen traffic --expect expected.jsonl scenario.toml");
  traffic->callback([topt] { run_traffic(*topt); });
}

}  // namespace flowscope::cli
