// `flowscope serve -C serve.toml`: the collector daemon (docs/serve.md). Validates the
// configuration, starts the server (ingest, pipeline, store, query protocol, admin HTTP), then
// waits for signals: SIGHUP re-reads the configuration (a file with a future start_at waits for
// its time), SIGTERM and SIGINT stop it cleanly (everything received is stored) with exit 0.
// Under systemd (Type=notify) it reports READY, RELOADING, STOPPING and the watchdog.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/short_flags.h"
#include "core/log.h"
#include "server/server.h"

namespace flowscope::cli {
namespace {

// sd_notify(3)'s protocol without libsystemd: one datagram to the AF_UNIX socket systemd names
// in NOTIFY_SOCKET ("@" = abstract namespace). Does nothing outside systemd.
void notify_systemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                 addr_len);
  ::close(fd);
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

struct ServeOptions {
  std::string config;
  std::string next;
  std::string ready_file;
  bool check = false;
};

void write_ready_file(const std::string& path, const server::Server& s,
                      const server::ServerConfig& cfg) {
  nlohmann::json j = {{"pid", ::getpid()},
                      {"netflow_port", s.netflow_port()},
                      {"ipfix_port", s.ipfix_port()},
                      {"sflow_port", s.sflow_port()},
                      {"query_port", s.query_port()},
                      {"http_port", s.http_port()},
                      {"data_dir", cfg.store.dir.string()}};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << '\n';
  }
  std::filesystem::rename(tmp, path);
}

void run_serve(const ServeOptions& opt) {
  auto cfg = server::load_server_config(opt.config);
  if (!cfg) throw UserError{cfg.error().message};
  std::optional<server::ServerConfig> next;
  if (!opt.next.empty()) {
    auto n = server::load_server_config(opt.next);
    if (!n) throw UserError{n.error().message};
    if (!n->start_at) {
      throw UserError{
          fmt::format("{}: a --next file needs start_at = \"...\" (when it takes effect)",
                      opt.next),
          kExitUsage};
    }
    next = std::move(*n);
  }
  if (opt.check) {
    // The checks start() runs before it binds anything, so that --check passing means start
    // gets past them too.
    if (auto r = server::Server::check(*cfg); !r) throw UserError{r.error().message};
    if (next) {
      if (auto r = server::Server::check(*next); !r) throw UserError{r.error().message};
    }
    std::printf("%s: ok\n", opt.config.c_str());
    return;
  }
  if (auto r = init_logging(cfg->log_level); !r) throw UserError{r.error().message};

  // Signals are taken by this thread with sigtimedwait: block them before any thread starts so
  // that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto srv = server::Server::start(*cfg);
  if (!srv) throw UserError{srv.error().message};
  server::Server& s = **srv;
  if (next) {
    if (auto r = s.reload(std::move(*next)); !r) throw UserError{r.error().message};
  }
  const std::string started = fmt::format(
      "NetFlow on UDP {}, IPFIX on {}, sFlow on {}; queries on TCP {}; metrics on "
      "http://{}:{}/metrics; data in {}",
      s.netflow_port(), s.ipfix_port(), s.sflow_port(), s.query_port(), cfg->http.address,
      s.http_port(), cfg->store.dir.string());
  log_always(spdlog::level::info, "server", "flowscope serve: " + started, "listening: " + started,
             {{"netflow_port", s.netflow_port()},
              {"ipfix_port", s.ipfix_port()},
              {"sflow_port", s.sflow_port()},
              {"query_port", s.query_port()},
              {"http_port", s.http_port()},
              {"http_address", cfg->http.address},
              {"data_dir", cfg->store.dir.string()},
              {"config", cfg->source}});
  if (!opt.ready_file.empty()) write_ready_file(opt.ready_file, s, *cfg);
  notify_systemd("READY=1\nSTATUS=receiving flows");
  // WATCHDOG_USEC (WatchdogSec=): the loop below pings every second, so it must be above that.
  const bool watchdog = std::getenv("WATCHDOG_USEC") != nullptr;

  auto log = logger("server");
  for (;;) {
    timespec second{1, 0};
    const int sig = sigtimedwait(&signals, nullptr, &second);
    if (sig == SIGHUP) {
      log_fields(*log, spdlog::level::info, "SIGHUP: reloading " + cfg->source,
                 {{"signal", "SIGHUP"}, {"config", cfg->source}});
      notify_systemd(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
      if (auto r = s.reload_file(); !r) {
        log->error("reload refused, the running configuration stays: {}", r.error().message);
      }
      notify_systemd("READY=1");
    } else if (sig == SIGTERM || sig == SIGINT) {
      log->info("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    s.tick();
    if (watchdog) notify_systemd("WATCHDOG=1");
  }
  notify_systemd("STOPPING=1");
  s.stop();
  if (!opt.ready_file.empty()) std::filesystem::remove(opt.ready_file);
}

}  // namespace

void register_serve(CLI::App& app) {
  auto opt = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "run the collector: receive NetFlow/IPFIX/sFlow, stitch, store, answer queries");
  cmd->add_option("-C,--config", opt->config, "the TOML configuration (docs/serve.md)")->required();
  cmd->add_option("--next", opt->next,
                  "a configuration that takes effect at its start_at time (trafMon's -n)");
  cmd->add_option("--ready-file", opt->ready_file,
                  "write the bound ports as JSON to this file once listening (for scripts)");
  cmd->add_flag("--check", opt->check, "validate the configuration and exit");
  add_moved_flag(*cmd, 'c', "the configuration is -C FILE (--config), as nfdump's -C");
  add_moved_flag(*cmd, 'n', "the next configuration is --next FILE");
  cmd->footer(
      "Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop after storing everything.\n\n"
      "Examples:\n"
      "  flowscope serve -C /etc/flowscope/serve.toml\n"
      "  flowscope serve -C serve.toml --check\n"
      "  flowscope serve -C serve.toml --next tonight.toml      (tonight.toml has start_at)\n"
      "  kill -HUP $(pidof flowscope)                      reload after editing serve.toml");
  cmd->callback([opt] { run_serve(*opt); });
}

}  // namespace flowscope::cli
