// `flowscope ipinfo`: the IP-info table of a data directory (reverse DNS names; trafMon's
// updateIpInfo). `refresh` adds the addresses the store has seen, resolves the new ones (or,
// with --all, every one) through c-ares under a rate limit, and saves the table; `show` prints
// it. The server fills the same table as sessions arrive (F7); this command is the batch path.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/short_flags.h"
#include "cli/table_writer.h"
#include "core/log.h"
#include "core/time.h"
#include "enrich/ip_info_table.h"
#include "enrich/reverse_dns.h"
#include "store/embedded_store.h"

namespace flowscope::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct RefreshOptions {
  std::string dir;
  bool all = false;
  std::vector<std::string> dns;
  std::string window;
  double rate = 200;
  double timeout = 2;
  bool quiet = false;
};

struct ShowOptions {
  std::string dir;
  std::vector<std::string> addresses;
  bool json = false;
};

fs::path table_path(const std::string& dir) { return fs::path(dir) / "ipinfo.tsv"; }

void load_table(const std::string& dir, enrich::IpInfoTable& table) {
  if (!fs::is_directory(dir)) {
    throw UserError{dir +
                    ": data directory does not exist; give the -d of `flowscope serve` or "
                    "`flowscope import`"};
  }
  const fs::path path = table_path(dir);
  if (!fs::exists(path)) return;
  if (auto r = table.load(path); !r) throw UserError{r.error().message};
}

// Adds every client and server address of the store's sessions (in `window`, if given).
std::size_t add_store_addresses(const RefreshOptions& opt, enrich::IpInfoTable& table) {
  store::StoreOptions so;
  so.dir = opt.dir;
  so.read_only = true;
  auto st = store::EmbeddedStore::open(so);
  if (!st) throw UserError{st.error().message};
  store::ScanRequest req;
  req.columns = {FieldId::ClnAddr, FieldId::SrvAddr};
  if (!opt.window.empty()) {
    auto w = parse_window(opt.window, TimeContext::system());
    if (!w) throw UserError{"-t: " + w.error().message, kExitUsage};
    req.begin_ms = to_ms(w->begin);
    req.end_ms = to_ms(w->end);
  }
  std::size_t added = 0;
  auto r = (*st)->scan(req, [&](const SessionBatch& b) {
    for (std::size_t row = 0; row < b.size(); ++row) {
      if (b.is_set(FieldId::ClnAddr, row)) added += table.add_new(b.get<FieldId::ClnAddr>(row));
      if (b.is_set(FieldId::SrvAddr, row)) added += table.add_new(b.get<FieldId::SrvAddr>(row));
    }
    return true;
  });
  if (!r) throw UserError{r.error().message};
  for (const Error& e : r->errors) {
    log_always(spdlog::level::warn, "ipinfo", "flowscope: warning: " + e.message, e.message);
  }
  return added;
}

void run_refresh(const RefreshOptions& opt) {
  enrich::IpInfoTable table;
  load_table(opt.dir, table);
  const std::size_t added = add_store_addresses(opt, table);

  enrich::ReverseDnsConfig cfg;
  cfg.servers = opt.dns;
  cfg.queries_per_second = opt.rate;
  cfg.timeout = DurationMs(static_cast<std::int64_t>(opt.timeout * 1000));
  cfg.max_queued = table.size() + 1;
  if (opt.rate <= 0) throw UserError{"--rate: queries per second must be above 0", kExitUsage};
  auto rdns = enrich::ReverseDns::start(cfg, table);
  if (!rdns) throw UserError{rdns.error().message, kExitUsage};
  const std::size_t queued = (*rdns)->refresh(opt.all);
  const bool tty = ::isatty(2) != 0 && !opt.quiet;
  // Everything is sent by rate; each answer arrives within tries × timeout after.
  const auto budget = std::chrono::milliseconds(
      static_cast<std::int64_t>(1000.0 * (double(queued) / opt.rate + opt.timeout * 3 + 5)));
  const auto deadline = std::chrono::steady_clock::now() + budget;
  bool idle = false;
  while (!idle && std::chrono::steady_clock::now() < deadline) {
    idle = (*rdns)->wait_idle(250ms);
    if (tty) {
      const auto s = (*rdns)->stats();
      const std::uint64_t done = s.resolved + s.not_found + s.timeouts + s.failed;
      std::fprintf(stderr, "\rresolving: %llu of %zu", static_cast<unsigned long long>(done),
                   queued);
    }
  }
  if (tty) std::fputc('\n', stderr);
  const auto s = (*rdns)->stats();
  rdns->reset();  // stop the resolver before saving: no answer lands after the save
  if (auto r = table.save(table_path(opt.dir)); !r) throw UserError{r.error().message};
  if (!opt.quiet) {
    std::cout << "ipinfo: " << table.size() << " addresses (" << added << " new from the store); "
              << (opt.all ? "re-resolved " : "resolved ") << queued << ": " << s.resolved
              << " names, " << s.not_found << " without a name, " << s.timeouts << " timed out, "
              << s.failed << " failed\n";
  }
  if (!idle) {
    throw UserError{
        "some queries were still open when the time budget ran out; run the refresh "
        "again (they stay 'new') or raise --rate"};
  }
}

void run_show(const ShowOptions& opt) {
  enrich::IpInfoTable table;
  load_table(opt.dir, table);
  std::vector<std::pair<IpAddress, enrich::IpInfo>> rows;
  if (opt.addresses.empty()) {
    rows = table.entries();
  } else {
    for (const std::string& text : opt.addresses) {
      auto a = IpAddress::parse(text);
      if (!a) throw UserError{"\"" + text + "\" is not an IP address", kExitUsage};
      auto info = table.get(*a);
      rows.emplace_back(*a, info.value_or(enrich::IpInfo{}));
    }
  }
  if (opt.json) {
    for (const auto& [address, info] : rows) {
      nlohmann::json j{{"address", address.to_string()},
                       {"state", std::string(enrich::name_state_name(info.state))},
                       {"name", info.name},
                       {"updated", format_time(info.updated)}};
      std::cout << j.dump() << '\n';
    }
    return;
  }
  TableWriter t({{"ADDRESS"}, {"STATE"}, {"NAME"}, {"UPDATED"}});
  for (const auto& [address, info] : rows) {
    t.add_row({address.to_string(), std::string(enrich::name_state_name(info.state)), info.name,
               to_ms(info.updated) == 0 ? "-" : format_time(info.updated)});
  }
  t.write(std::cout);
}

}  // namespace

void register_ipinfo(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "ipinfo", "The IP-info table of a data directory: reverse DNS names of seen addresses");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  flowscope ipinfo refresh -d /var/lib/flowscope\n"
      "  flowscope ipinfo refresh -d /var/lib/flowscope --all --dns 127.0.0.1:53\n"
      "  flowscope ipinfo show -d /var/lib/flowscope 192.0.2.1");

  auto ropt = std::make_shared<RefreshOptions>();
  CLI::App* refresh = cmd->add_subcommand(
      "refresh", "Add the store's addresses and resolve the new ones (--all: every one)");
  refresh->add_option(kDataDirOption, ropt->dir, "Data directory of the store")->required();
  refresh->add_flag("--all", ropt->all,
                    "Re-resolve every address, not only new ones (trafMon's full update)");
  refresh->add_option("--dns", ropt->dns,
                      "DNS server HOST:PORT to ask (repeatable; default: /etc/resolv.conf)");
  refresh->add_option("-t,--time", ropt->window,
                      "Only addresses of sessions in this window (e.g. 'last 1d'); default all");
  refresh->add_option("--rate", ropt->rate, "Queries per second at most")->capture_default_str();
  refresh->add_option("--timeout", ropt->timeout, "Seconds to wait for one answer")
      ->capture_default_str();
  refresh->add_flag("-q,--quiet", ropt->quiet, "No progress or summary");
  refresh->footer(
      "The table lives in DATADIR/ipinfo.tsv (docs/enrich.md). Addresses that were not\n"
      "answered stay 'new' or 'failed' and are asked again by the next refresh.\n\n"
      "Examples:\n"
      "  flowscope ipinfo refresh -d data\n"
      "  flowscope ipinfo refresh -d data -t 'last 1d' --rate 50\n"
      "  flowscope ipinfo refresh -d data --all --dns 192.0.2.53:53");
  refresh->callback([ropt] { run_refresh(*ropt); });

  auto sopt = std::make_shared<ShowOptions>();
  CLI::App* show = cmd->add_subcommand("show", "Print the table, or the entries of addresses");
  show->add_option(kDataDirOption, sopt->dir, "Data directory of the store")->required();
  show->add_option("addresses", sopt->addresses, "Addresses to look up (default: all)");
  show->add_flag("--json", sopt->json, "One JSON object per line");
  show->footer(
      "Examples:\n"
      "  flowscope ipinfo show -d data\n"
      "  flowscope ipinfo show -d data 192.0.2.1 2001:db8::1 --json");
  show->callback([sopt] { run_show(*sopt); });
}

}  // namespace flowscope::cli
