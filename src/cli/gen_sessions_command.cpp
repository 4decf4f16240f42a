// `flowscope gen sessions -d DATADIR`: the traffic model of `gen flows` (gen/flow_model.h)
// written straight into a store as enriched two-way sessions, for report tests and benches that
// need weeks of data in seconds (docs/gen.md "gen sessions"). Each model session's two one-way
// flows become one session (client = the flow's source); IP groups and services are filled by
// the Enricher as `flowscope serve` does. Probe-only fields are synthesised so that reports have
// something to show: TCP sessions get handshake round trips (server side: the model's client-to-
// server start offset; client side 0.2-2 ms) and, for about 7 %, retransmissions; every
// 1000th session becomes an FTP control session followed by its data transfer. Ctrl-C stops the
// model, stores the batch made so far, closes the store and exits 130 (cli/interrupt.h).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/short_flags.h"
#include "enrich/enricher.h"
#include "store/embedded_store.h"

#include "gen/flow_model.h"

namespace flowscope::cli {
namespace {

struct GenSessionsOptions {
  std::string dir;
  std::string start = "2026-11-01T00:00:00Z";
  std::string duration = "1d";
  double rate = 10;
  std::uint64_t seed = 1;
  std::string groups;
  std::uint32_t clients = 2000;
  std::uint32_t servers = 300;
  double ipv6_share = 0.1;
  bool quiet = false;
};

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

// Session `id` from the model's two flows at rows 0 and 1 of `flows`.
void add_from_flows(const FlowBatch& flows, std::uint64_t id, SessionBatch& out) {
  const std::size_t r = out.add_row();
  const std::int64_t first = flows.get<FieldId::First>(0);
  out.set<FieldId::SessionId>(r, id);
  out.set<FieldId::StartTime>(r, first);
  std::int64_t last = flows.get<FieldId::Last>(0);
  if (flows.size() > 1) last = std::max(last, flows.get<FieldId::Last>(1));
  out.set<FieldId::EndTime>(r, last);
  out.set<FieldId::ClnAddr>(r, flows.get<FieldId::SrcAddr>(0));
  out.set<FieldId::SrvAddr>(r, flows.get<FieldId::DstAddr>(0));
  out.set<FieldId::ClnPort>(r, flows.get<FieldId::SrcPort>(0));
  out.set<FieldId::SrvPort>(r, flows.get<FieldId::DstPort>(0));
  const std::uint8_t proto = flows.get<FieldId::Proto>(0);
  out.set<FieldId::Proto>(r, proto);
  out.set<FieldId::ClnPackets>(r, flows.get<FieldId::FlowPackets>(0));
  out.set<FieldId::ClnBytes>(r, flows.get<FieldId::FlowBytes>(0));
  out.set<FieldId::ClnTcpFlags>(r, flows.get<FieldId::TcpFlags>(0));
  out.set<FieldId::InIf>(r, flows.get<FieldId::InIf>(0));
  out.set<FieldId::OutIf>(r, flows.get<FieldId::OutIf>(0));
  out.set<FieldId::Exporter>(r, IpAddress::v4(0xC0000201u));
  out.set<FieldId::Version>(r, 10);
  std::uint8_t sides = 1;
  if (flows.size() > 1) {
    sides = 2;
    out.set<FieldId::SrvPackets>(r, flows.get<FieldId::FlowPackets>(1));
    out.set<FieldId::SrvBytes>(r, flows.get<FieldId::FlowBytes>(1));
    out.set<FieldId::SrvTcpFlags>(r, flows.get<FieldId::TcpFlags>(1));
    if (proto == 6) {
      const std::uint64_t h = mix(id);
      const std::int64_t srv_rtt = flows.get<FieldId::First>(1) - first;
      out.set<FieldId::SrvRtt>(
          r, static_cast<std::uint32_t>(std::max<std::int64_t>(srv_rtt, 1) * 1000));
      out.set<FieldId::ClnRtt>(r, static_cast<std::uint32_t>(200 + h % 1800));
      const bool retrans = (h >> 20) % 100 < 7;
      out.set<FieldId::ClnRetrans>(r, retrans ? static_cast<std::uint32_t>(1 + (h >> 28) % 3) : 0u);
      out.set<FieldId::SrvRetrans>(r, retrans ? static_cast<std::uint32_t>((h >> 34) % 5) : 0u);
    }
  }
  out.set<FieldId::Sides>(r, sides);
}

// An FTP control session (port 21) and one passive-mode data session attributed to it.
void add_ftp(std::uint64_t ctrl_id, TimeMs t, const IpAddress& cln, const IpAddress& srv,
             std::uint64_t h, SessionBatch& out) {
  for (int k = 0; k < 2; ++k) {
    const std::size_t r = out.add_row();
    const bool data = k == 1;
    const std::uint64_t bytes = data ? 200'000 + (h % 50'000'000) : 1'200 + h % 400;
    out.set<FieldId::SessionId>(r, ctrl_id + static_cast<std::uint64_t>(k));
    out.set<FieldId::StartTime>(r, to_ms(t) + (data ? 150 : 0));
    out.set<FieldId::EndTime>(
        r, to_ms(t) + static_cast<std::int64_t>(data ? 4000 + h % 60000 : 70000));
    out.set<FieldId::ClnAddr>(r, cln);
    out.set<FieldId::SrvAddr>(r, srv);
    out.set<FieldId::ClnPort>(r, static_cast<std::uint16_t>(50000 + k + h % 10000));
    out.set<FieldId::SrvPort>(r, static_cast<std::uint16_t>(data ? 30000 + (h >> 16) % 1000 : 21));
    out.set<FieldId::Proto>(r, 6);
    out.set<FieldId::ClnBytes>(r, data ? 600 + h % 900 : bytes / 3);
    out.set<FieldId::SrvBytes>(r, data ? bytes : bytes - bytes / 3);
    out.set<FieldId::ClnPackets>(r, data ? 12 + h % 20 : 14);
    out.set<FieldId::SrvPackets>(r, data ? bytes / 1400 + 1 : 16);
    out.set<FieldId::Sides>(r, 2);
    out.set<FieldId::Version>(r, 10);
    out.set<FieldId::Exporter>(r, IpAddress::v4(0xC0000201u));
    out.set<FieldId::ClnRtt>(r, 800u);
    out.set<FieldId::SrvRtt>(r, 12000u);
    out.set<FieldId::ClnRetrans>(r, 0u);
    out.set<FieldId::SrvRetrans>(r, 0u);
    if (data) out.set<FieldId::FtpControl>(r, ctrl_id);
  }
}

void run_gen_sessions(const GenSessionsOptions& opt) {
  TimeContext ctx = TimeContext::system(TimeZoneRef::utc());
  auto start = parse_time(opt.start, ctx);
  if (!start) throw UserError{render_error("--start", opt.start, start.error()), kExitUsage};
  auto duration = parse_duration(opt.duration);
  if (!duration || duration->count() <= 0) {
    throw UserError{"--duration \"" + opt.duration + "\": use e.g. 1h, 7d, 30d", kExitUsage};
  }
  if (!(opt.rate > 0)) throw UserError{"--rate: sessions per second, above 0", kExitUsage};
  std::shared_ptr<const enrich::IpGroups> groups;
  if (!opt.groups.empty()) {
    auto g = enrich::IpGroups::load(opt.groups);
    if (!g) throw UserError{"--groups: " + g.error().message, kExitUsage};
    groups = std::make_shared<const enrich::IpGroups>(std::move(*g));
  }
  enrich::Reloadable<enrich::IpGroups> group_src(groups);
  auto services = std::make_shared<enrich::ServiceTable>();
  if (const auto path = enrich::ServiceTable::shipped_path(); !path.empty()) {
    if (auto r = services->add_file(path); !r) throw UserError{r.error().message};
  }
  enrich::Reloadable<enrich::ServiceTable> service_src(std::move(services));
  enrich::EnrichSources sources;
  sources.groups = groups ? &group_src : nullptr;
  sources.services = &service_src;
  enrich::Enricher enricher(sources);

  InterruptFlag interrupt;
  store::StoreOptions so;
  so.dir = opt.dir;
  so.sync_interval = std::chrono::milliseconds(0);
  auto st = store::EmbeddedStore::open(so);
  if (!st) throw UserError{st.error().message};
  auto& s = **st;

  gen::FlowModelConfig mc;
  mc.clients = opt.clients;
  mc.servers = opt.servers;
  mc.ipv6_share = opt.ipv6_share;
  gen::FlowModel model(mc, opt.seed);
  const auto total =
      static_cast<std::uint64_t>(static_cast<double>(duration->count()) / 1000.0 * opt.rate);
  const bool tty = ::isatty(2) == 1 && !opt.quiet;
  SessionBatch batch(65536);
  FlowBatch flows(2);
  std::uint64_t id = 1, written = 0;
  auto flush = [&] {
    enricher.enrich(batch);
    if (auto r = s.append(batch); !r) throw UserError{r.error().message};
    written += batch.size();
    batch.clear();
  };
  for (std::uint64_t i = 0; i < total && !interrupt.raised(); ++i) {
    const TimeMs now =
        *start + DurationMs(static_cast<std::int64_t>(static_cast<double>(i) * 1000.0 / opt.rate));
    flows.clear();
    model.add_session(now, flows, 2);
    add_from_flows(flows, id, batch);
    const std::size_t row = batch.size() - 1;
    ++id;
    if (i % 1000 == 999) {
      add_ftp(id, now, batch.get<FieldId::ClnAddr>(row), batch.get<FieldId::SrvAddr>(row), mix(id),
              batch);
      id += 2;
    }
    if (batch.size() >= 65000) flush();
    if (tty && i % 1'000'000 == 0) {
      std::cerr << fmt::format("\rgen sessions: {} of {}", i, total) << std::flush;
    }
  }
  if (batch.size() > 0) flush();
  if (auto r = s.close(); !r) throw UserError{r.error().message};
  if (tty) std::cerr << "\r\033[K";
  if (!opt.quiet) {
    std::cerr << fmt::format("gen sessions: {} sessions from {} over {} into {}{}\n", written,
                             format_time(*start), format_duration(*duration), opt.dir,
                             interrupt.raised() ? " (interrupted)" : "");
  }
  if (interrupt.raised()) {
    throw UserError{fmt::format("interrupted (Ctrl-C); {} sessions stored in {}", written, opt.dir),
                    kExitInterrupted};
  }
}

}  // namespace

void register_gen_sessions(CLI::App& gen) {
  auto opt = std::make_shared<GenSessionsOptions>();
  CLI::App* cmd = gen.add_subcommand(
      "sessions", "Write the flow model's sessions, enriched, straight into a store");
  cmd->add_option(kDataDirOption, opt->dir, "Data directory of the store (created if missing)")
      ->required();
  cmd->add_option("--start", opt->start, "Time of the first session")->capture_default_str();
  cmd->add_option("--duration", opt->duration, "Simulated time span (1h, 7d, 30d)")
      ->capture_default_str();
  cmd->add_option("--rate", opt->rate, "Sessions per simulated second")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Seed of the model")->capture_default_str();
  cmd->add_option("--groups", opt->groups, "IP groups (TOML or ipInfo.ini) for cln/srv_group");
  cmd->add_option("--clients", opt->clients, "Client population")->capture_default_str();
  cmd->add_option("--servers", opt->servers, "Server population")->capture_default_str();
  cmd->add_option("--ipv6-share", opt->ipv6_share, "Fraction of IPv6 sessions")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress or summary");
  cmd->footer(
      "Examples:\n"
      "  flowscope gen sessions -d data --groups tests/data/report/groups.toml --duration 7d\n"
      "  flowscope gen sessions -d big --duration 30d --rate 10000 --seed 3");
  cmd->callback([opt] { run_gen_sessions(*opt); });
}

}  // namespace flowscope::cli
