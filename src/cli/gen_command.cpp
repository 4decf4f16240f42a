// `flowscope gen flows`: a synthetic exporter of NetFlow v5/v9, IPFIX and sFlow v5, and `gen
// traffic`: real traffic on loopback from a scenario file (docs/gen.md). This file parses the
// options and prints; the checks and the paced send / pcap loop are gen/flow_run.h, the
// scenarios gen/traffic_runner.h.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "core/log.h"
#include "core/pcap_writer.h"
#include "core/time.h"
#include "core/udp_sender.h"
#include "decode/flow_encoder.h"

#include "gen/flow_run.h"
#include "gen/traffic_runner.h"
#include "gen/traffic_scenario.h"

namespace flowscope::cli {
namespace {

UserError usage(std::string message) { return UserError{std::move(message), kExitUsage}; }

void warn(const std::string& message) {
  log_always(spdlog::level::warn, "gen", "flowscope: warning: " + message, message);
}

struct FlowsOutput {
  bool quiet = false;
  bool json = false;
};

void run(const gen::FlowRunSettings& opt, const FlowsOutput& output) {
  const bool quiet = output.quiet;
  auto config = gen::make_gen_config(opt, warn);
  if (!config) throw usage(config.error().message);
  std::optional<UdpSender> sender;
  if (!opt.to.empty()) {
    auto s = UdpSender::open(opt.to);
    if (!s) throw usage(s.error().message);
    sender.emplace(std::move(*s));
    if (!sender->is_loopback()) {
      warn("sending synthetic flows to " + sender->destination() + ", off this host");
    }
  }
  std::optional<PcapWriter> pcap;
  if (!opt.pcap.empty()) {
    auto p = PcapWriter::open(opt.pcap);
    if (!p) throw UserError{p.error().message};
    pcap.emplace(std::move(*p));
  }
  const bool progress = !quiet && !output.json && ::isatty(STDERR_FILENO) != 0;
  // Ctrl-C: the run stops, sends and closes what it made (the pcap stays whole), exit 130.
  InterruptFlag interrupt;
  auto summary = gen::run_flows(
      *config, sender ? &*sender : nullptr, pcap ? &*pcap : nullptr, opt.rate > 0,
      progress ? std::function([](const gen::FlowRunProgress& p) {
        std::fprintf(stderr, "\r%llu flows, %llu datagrams, %.0f flows/s   ",
                     static_cast<unsigned long long>(p.flows),
                     static_cast<unsigned long long>(p.datagrams), double(p.flows) / p.seconds);
      })
               : std::function<void(const gen::FlowRunProgress&)>(),
      interrupt.flag());
  if (!summary) throw UserError{summary.error().message};
  if (progress) std::fputc('\n', stderr);
  const gen::FlowRunSummary& s = *summary;
  const std::string destination = sender ? sender->destination() : opt.pcap;
  if (output.json) {
    // The same stream as the text summary: standard output may be the pcap (--pcap -).
    const nlohmann::json j = {{"flows", s.flows},
                              {"datagrams", s.datagrams},
                              {"bytes", s.bytes},
                              {"format", std::string(decode::format_name(config->format))},
                              {"exporters", config->exporters},
                              {"restarts", s.restarts},
                              {"destination", destination},
                              {"seconds", s.seconds},
                              {"flows_per_second", double(s.flows) / s.seconds},
                              {"datagrams_per_second", double(s.datagrams) / s.seconds},
                              {"interrupted", s.cancelled}};
    std::fprintf(stderr, "%s\n", j.dump().c_str());
  } else if (!quiet) {
    std::fprintf(stderr,
                 "gen: %llu flows in %llu datagrams (%llu bytes, %s, %u exporter(s), %llu "
                 "restarts) to %s in %.3f s: %.0f flows/s, %.0f datagrams/s\n",
                 static_cast<unsigned long long>(s.flows),
                 static_cast<unsigned long long>(s.datagrams),
                 static_cast<unsigned long long>(s.bytes),
                 std::string(decode::format_name(config->format)).c_str(), config->exporters,
                 static_cast<unsigned long long>(s.restarts), destination.c_str(), s.seconds,
                 double(s.flows) / s.seconds, double(s.datagrams) / s.seconds);
  }
  if (s.cancelled) {
    throw UserError{fmt::format("interrupted (Ctrl-C) after {} flows", s.flows), kExitInterrupted};
  }
}

struct TrafficOptions {
  std::string scenario;
  std::string expect;
  bool quiet = false;
};

std::atomic<bool> g_traffic_cancel{false};
std::atomic<bool> g_traffic_sigint{false};  // Ctrl-C (exit 130) rather than SIGTERM

void run_traffic(const TrafficOptions& opt) {
  auto scenario = gen::load_scenario(opt.scenario);
  if (!scenario) throw UserError{scenario.error().message, kExitUsage};
  // Ctrl-C ends the scenario early; the report still lists what was sent.
  std::signal(SIGINT, [](int) {
    g_traffic_sigint.store(true);
    g_traffic_cancel.store(true);
  });
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
  if (report->cancelled && g_traffic_sigint.load()) {
    throw UserError{"interrupted (Ctrl-C)", kExitInterrupted};
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
  auto opt = std::make_shared<gen::FlowRunSettings>();
  auto output = std::make_shared<FlowsOutput>();
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
  cmd->add_flag("-q,--quiet", output->quiet, "No progress or summary on stderr");
  cmd->add_flag("--json", output->json, "The summary as one JSON object (on stderr)");
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
  cmd->callback([opt, output] { run(*opt, *output); });

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
