#pragma once
// Server: `flowscope serve` as an object (docs/serve.md). Owns the embedded store, the
// enrichment sources, the UDP ingest workers, the pipeline (stitch, enrich, store), the query
// protocol listener with its authentication, and the HTTP listener (JSON API, Scrutinizer's
// fcgi, /metrics, /healthz; server/http_server.h).
//
// Lifecycle: start() validates and opens everything (an error names what and the fix);
// reload() applies a new configuration, or schedules it when it has a future `start_at`;
// tick() (called every second by the control loop) applies a scheduled one whose time has come;
// stop() stops receiving, drains the queue, closes every open session into the store and
// closes the store: nothing received is lost on SIGTERM.
//
// Threads: start, reload, tick, stop from one control thread; metrics_text, healthy and the
// accessors from any thread.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "enrich/geoip.h"
#include "enrich/interface_table.h"
#include "enrich/ip_groups.h"
#include "enrich/ip_info_table.h"
#include "enrich/reloadable.h"
#include "enrich/reverse_dns.h"
#include "enrich/service_table.h"
#include "enrich/snmp_poller.h"
#include "server/auth.h"
#include "server/metrics.h"
#include "server/pipeline.h"
#include "server/query_server.h"
#include "server/server_config.h"
#include "server/udp_ingest.h"
#include "store/embedded_store.h"

namespace flowscope::clickhouse {
class ClickHouseBackend;
}  // namespace flowscope::clickhouse

namespace flowscope::server {

class ScheduleService;

class HttpServer;
struct Route;

struct ServerOptions {
  Clock clock = system_clock();
};

class Server {
 public:
  // Runs check(), then opens and binds everything.
  static Result<std::unique_ptr<Server>> start(ServerConfig config, ServerOptions options = {});
  // What start() verifies before it opens the store or binds a port: the listeners do not
  // collide, the data directory is (or can be) a directory, the enrichment and users files
  // load. `flowscope serve --check` runs it; errors name the file:line of the key and the fix.
  // Creates nothing.
  static Result<void> check(const ServerConfig& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Applies `next` now, or schedules it when next.start_at is in the future (replacing an
  // earlier schedule). Settings that need a restart are kept and named in a warning.
  Result<void> reload(ServerConfig next);
  // Re-reads the running configuration's file (SIGHUP).
  Result<void> reload_file();
  // Applies a scheduled configuration whose start_at has come; true when it did.
  bool tick();
  void stop();

  std::uint16_t netflow_port() const { return ingest_->netflow_port(); }
  std::uint16_t ipfix_port() const { return ingest_->ipfix_port(); }
  std::uint16_t sflow_port() const { return ingest_->sflow_port(); }
  std::uint16_t query_port() const { return query_->port(); }
  std::uint16_t http_port() const;

  std::string metrics_text() const;
  bool healthy() const;
  ServerConfig config() const;
  std::optional<TimeMs> scheduled_start() const;
  std::uint64_t config_generation() const { return generation_.load(); }

  // Where sessions are stored and queried: the embedded store, or ClickHouse ([store] backend).
  store::Backend& store() { return *backend_; }
  // How long raw sessions are kept (store.json `keep raw`; 0 = forever), for the part of a
  // window an answer lacks (query/raw_retention.h).
  std::int64_t raw_keep_ms() const;
  AuthService& auth() { return *auth_; }
  Pipeline& pipeline() { return *pipeline_; }
  const UdpIngest& ingest() const { return *ingest_; }
  std::shared_ptr<const enrich::IpGroups> ip_groups() const { return groups_.snapshot(); }
  QueryServer& query_server() { return *query_; }
  HttpServer& http_server() { return *http_; }
  const enrich::InterfaceTable& interfaces() const { return interfaces_; }
  const enrich::IpInfoTable& ip_info() const { return ip_info_; }
  std::shared_ptr<const enrich::GeoDb> geo_snapshot() const { return geo_.snapshot(); }
  TimeMs now() const { return options_.clock(); }
  TimeMs started() const { return started_; }
  LatencyHistogram& http_latency() { return http_latency_; }

 private:
  explicit Server(ServerOptions options);
  Result<void> start_name_sources(const ServerConfig& config);
  Result<void> load_enrichment(const ServerConfig& config);
  void register_handlers();
  void register_query_handlers();  // query_handlers.cpp
  void apply(ServerConfig next);

  ServerOptions options_;
  mutable std::mutex mutex_;
  ServerConfig config_;                    // guarded by mutex_
  std::optional<ServerConfig> scheduled_;  // guarded by mutex_
  std::atomic<std::uint64_t> generation_{1};
  std::atomic<bool> stopped_{false};

  enrich::Reloadable<enrich::GeoDb> geo_;
  enrich::Reloadable<enrich::IpGroups> groups_;
  enrich::Reloadable<enrich::ServiceTable> services_;
  enrich::InterfaceTable interfaces_;  // options data (ingest workers) and SNMP
  enrich::IpInfoTable ip_info_;        // reverse DNS names, saved to DATADIR/ipinfo.tsv
  std::unique_ptr<enrich::ReverseDns> reverse_dns_;
  std::unique_ptr<enrich::SnmpPoller> snmp_;
  LatencyHistogram query_latency_;
  LatencyHistogram http_latency_;
  TimeMs started_{};

  std::unique_ptr<store::EmbeddedStore> store_;  // null with [store] backend = "clickhouse"
  std::unique_ptr<store::Backend> clickhouse_;
  const clickhouse::ClickHouseBackend* ch_ = nullptr;  // clickhouse_, for its metrics
  store::Backend* backend_ = nullptr;                  // store_ or clickhouse_
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<UdpIngest> ingest_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<QueryServer> query_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<ScheduleService> schedule_;  // [[schedule]] jobs; null without any
};

}  // namespace flowscope::server
