#include "server/server.h"

#include <fmt/format.h>
#include <unistd.h>

#include "clickhouse/clickhouse_backend.h"
#include "core/log.h"
#include "server/http_server.h"
#include "server/schedule_service.h"
#include "store/store_config.h"

namespace flowscope::server {

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Result<void> Server::load_enrichment(const ServerConfig& config) {
  const EnrichConfig& e = config.enrich;
  if (!e.geoip_city.empty() || !e.geoip_asn.empty()) {
    auto geo = enrich::GeoDb::load({e.geoip_city, e.geoip_asn});
    if (!geo) {
      return Error{
          geo.error().code,
          fmt::format("{}: [enrich] geoip: {}",
                      config.where(e.geoip_city.empty() ? "enrich.geoip_asn" : "enrich.geoip_city"),
                      geo.error().message)};
    }
    geo_.store(*geo);
  } else {
    geo_.store(nullptr);
  }
  if (!e.ip_groups.empty()) {
    auto groups = enrich::IpGroups::load(e.ip_groups);
    if (!groups) {
      return Error{groups.error().code,
                   fmt::format("{}: [enrich] ip_groups: {}; give an ipInfo.ini (or .toml) file",
                               config.where("enrich.ip_groups"), groups.error().message)};
    }
    groups_.store(std::make_shared<const enrich::IpGroups>(std::move(*groups)));
  } else {
    groups_.store(std::make_shared<const enrich::IpGroups>());
  }
  auto services = std::make_shared<enrich::ServiceTable>();
  const auto path = e.services.empty() ? enrich::ServiceTable::shipped_path() : e.services;
  if (!path.empty()) {
    if (auto r = services->add_file(path); !r) {
      return Error{r.error().code, fmt::format("{}: [enrich] services: {}",
                                               config.where("enrich.services"), r.error().message)};
    }
  }
  services_.store(std::move(services));
  return {};
}

// Reverse DNS (names kept in DATADIR/ipinfo.tsv across restarts) and SNMP polling of interface
// names; both run on threads of their own, so ingest never waits for them.
Result<void> Server::start_name_sources(const ServerConfig& config) {
  const EnrichConfig& e = config.enrich;
  if (e.reverse_dns) {
    const auto path = config.store.dir / "ipinfo.tsv";
    if (std::filesystem::exists(path)) {
      if (auto r = ip_info_.load(path); !r) return r.error();
    }
    enrich::ReverseDnsConfig rc;
    rc.servers = e.dns_servers;
    rc.queries_per_second = static_cast<double>(e.dns_rate);
    auto rdns = enrich::ReverseDns::start(rc, ip_info_);
    if (!rdns) return rdns.error();
    reverse_dns_ = std::move(*rdns);
  }
  if (!e.snmp_targets.empty()) {
    enrich::SnmpConfig sc;
    sc.interval = std::chrono::duration_cast<std::chrono::seconds>(e.snmp_interval);
    for (const std::string& t : e.snmp_targets) {
      const std::size_t eq = t.find('=');
      enrich::SnmpTarget target;
      target.exporter = *IpAddress::parse(t.substr(0, eq));  // checked by the config reader
      if (eq != std::string::npos) target.agent = t.substr(eq + 1);
      target.community = e.snmp_community;
      sc.targets.push_back(std::move(target));
    }
    auto poller = enrich::SnmpPoller::create(std::move(sc), interfaces_);
    if (!poller) return poller.error();
    snmp_ = std::move(*poller);
    snmp_->start();
  }
  return {};
}

Result<std::unique_ptr<Server>> Server::start(ServerConfig config, ServerOptions options) {
  auto log = logger("server");
  std::unique_ptr<Server> s(new Server(std::move(options)));
  s->config_ = config;
  if (auto r = check(config); !r) return r.error();
  s->started_ = s->options_.clock();
  if (auto r = s->load_enrichment(config); !r) return r.error();

  std::error_code ec;
  std::filesystem::create_directories(config.store.dir, ec);
  store::StoreOptions so;
  so.dir = config.store.dir;
  so.sync_interval = config.store.sync_interval;
  so.flush_rows = config.store.flush_rows;
  if (config.store.backend == "clickhouse") {
    auto o = clickhouse::parse_clickhouse_url(config.store.clickhouse);
    if (!o) return Error{o.error().code, "[store] clickhouse: " + o.error().message};
    if (o->spill_dir.empty()) o->spill_dir = config.store.dir / "clickhouse-spill";
    o->background_flush = true;
    // The data directory's rollup views and retention (store.json, `flowscope store config`),
    // as the embedded store would read them (docs/scale-out.md "Rollups").
    auto sc = store::load_store_config(config.store.dir);
    if (!sc) return sc.error();
    if (*sc) {
      if (o->rollups.empty()) o->rollups = (*sc)->rollups;
      o->keep_ms = (*sc)->keep_ms;
    }
    // Rows reach ClickHouse (and the durable sequence the pipeline's checkpoints wait for)
    // within a commit interval or so, not the URL default of 5 s.
    o->flush_interval = std::min<std::chrono::milliseconds>(
        o->flush_interval, std::chrono::duration_cast<std::chrono::milliseconds>(
                               config.store.sync_interval + std::chrono::milliseconds(1)));
    auto ch = clickhouse::ClickHouseBackend::open(std::move(*o));
    if (!ch) return ch.error();
    s->ch_ = ch->get();
    s->clickhouse_ = std::move(*ch);
    s->backend_ = s->clickhouse_.get();
  } else {
    auto st = store::EmbeddedStore::open(so);
    if (!st) return st.error();
    s->store_ = std::move(*st);
    s->backend_ = s->store_.get();
  }

  s->auth_ = std::make_unique<AuthService>(config.auth, config.users_path(), config.audit_path(),
                                           s->options_.clock);
  if (auto r = s->auth_->reload_users(); !r) return r.error();

  if (auto r = s->start_name_sources(config); !r) return r.error();

  enrich::EnrichSources sources{&s->geo_, &s->groups_, &s->services_, s->reverse_dns_.get(),
                                &s->interfaces_};
  PipelineOptions po;
  po.shards = config.stitch.shards;
  po.idle_after = config.stitch.quiet_after;
  po.queue_batches = config.ingest.queue_batches;
  po.commit_interval = config.store.commit_interval;
  po.data_dir = config.store.dir;
  po.sync_interval = config.store.sync_interval;
  s->pipeline_ = std::make_unique<Pipeline>(*s->backend_, sources, config.stitch, po);
  if (auto r = s->pipeline_->start(); !r) return r.error();

  Server* self = s.get();
  s->query_ = std::make_unique<QueryServer>(*s->auth_, s->query_latency_,
                                            [self] { return self->config().query.allow; });
  s->register_handlers();
  s->query_->set_limits(config.query.limits);
  if (!config.query.tls_cert.empty()) {
    auto tls = TlsContext::server(config.query.tls_cert, config.query.tls_key);
    if (!tls) return Error{tls.error().code, config.source + ": " + tls.error().message};
    s->query_->set_tls(std::move(*tls), config.query.tls_required);
  }

  // Everything the query and HTTP handlers read (ingest_, schedule_) is set before either
  // listener accepts a connection: a /metrics or stats request during start would otherwise
  // race with these assignments (make tsan found it).
  auto ingest = UdpIngest::start(config.ingest, *s->pipeline_, &s->interfaces_);
  if (!ingest) return ingest.error();
  s->ingest_ = std::move(*ingest);
  if (!config.schedule.empty()) {
    auto sched = ScheduleService::start(config.schedule, config.store.dir, {}, s->options_.clock);
    if (!sched) return sched.error();
    s->schedule_ = std::move(*sched);
  }
  if (auto r = s->query_->start(config.query.address, config.query.port); !r) return r.error();

  std::vector<Route> routes = api_routes(*self);
  for (auto* more : {&admin_routes, &reports_routes, &scrutinizer_routes}) {
    for (Route& r : (*more)(*self)) routes.push_back(std::move(r));
  }
  std::shared_ptr<const TlsContext> http_tls;
  if (config.http.tls) {
    auto tls = TlsContext::server(config.query.tls_cert, config.query.tls_key);
    if (!tls) return Error{tls.error().code, config.source + ": " + tls.error().message};
    http_tls = std::move(*tls);
  }
  auto http = HttpServer::start(*self, std::move(routes), std::move(http_tls));
  if (!http) return http.error();
  s->http_ = std::move(*http);

  log->info("serving from {} (data in {})", config.source, config.store.dir.string());
  return s;
}

Server::~Server() { stop(); }

std::uint16_t Server::http_port() const { return http_->port(); }

std::int64_t Server::raw_keep_ms() const {
  if (store_ != nullptr) return store_->options().keep_ms[0];
  if (ch_ != nullptr) return ch_->options().keep_ms[0];
  return 0;
}

ServerConfig Server::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

std::optional<TimeMs> Server::scheduled_start() const {
  std::lock_guard lock(mutex_);
  if (!scheduled_) return std::nullopt;
  return scheduled_->start_at;
}

void Server::apply(ServerConfig next) {
  auto log = logger("server");
  ServerConfig running = config();
  for (const std::string& what : restart_needed(running, next)) {
    log->warn("{}: {} changed; it takes effect at the next restart", next.source, what);
  }
  // Keep what cannot change in place, so config() tells the truth about the running daemon.
  next.ingest = running.ingest;
  next.store.dir = running.store.dir;
  next.query.address = running.query.address;
  next.query.port = running.query.port;
  next.http.address = running.http.address;
  next.http.port = running.http.port;
  if (next.http.tls != running.http.tls) {
    log->warn("{}: [http] tls changed; it takes effect at the next restart", next.source);
    next.http.tls = running.http.tls;
  }
  if (auto r = load_enrichment(next); !r) {
    log->error("{}: enrichment not reloaded: {}", next.source, r.error().message);
  }
  // TLS: the certificate and key are read again (a renewed certificate in the same files takes
  // effect); on an error the running ones stay.
  if (next.query.tls_cert.empty()) {
    query_->set_tls(nullptr, false);
  } else if (auto tls = TlsContext::server(next.query.tls_cert, next.query.tls_key); tls) {
    if (http_) http_->set_tls(*tls);  // HTTPS, when on, uses the same pair
    query_->set_tls(std::move(*tls), next.query.tls_required);
  } else {
    log->error("{}: TLS not reloaded: {}", next.source, tls.error().message);
    next.query.tls_cert = running.query.tls_cert;
    next.query.tls_key = running.query.tls_key;
    next.query.tls_required = running.query.tls_required;
  }
  query_->set_limits(next.query.limits);
  auth_->set_config(next.auth);
  if (auto r = auth_->reload_users(); !r) {
    log->error("users not reloaded: {}", r.error().message);
  }
  if (next.stitch.window != running.stitch.window ||
      next.stitch.max_open != running.stitch.max_open) {
    pipeline_->set_stitch(next.stitch);
  }
  if (auto r = init_logging(next.log_level); !r) log->warn("{}", r.error().message);
  {
    std::lock_guard lock(mutex_);
    config_ = std::move(next);
  }
  generation_.fetch_add(1);
  log->info("configuration {} applied (generation {})", config().source, generation_.load());
}

Result<void> Server::reload(ServerConfig next) {
  const TimeMs now = options_.clock();
  if (next.start_at && *next.start_at > now) {
    logger("server")->info("{}: takes effect at {}", next.source, format_time(*next.start_at));
    std::lock_guard lock(mutex_);
    scheduled_ = std::move(next);
    return {};
  }
  {
    std::lock_guard lock(mutex_);
    scheduled_.reset();
  }
  apply(std::move(next));
  return {};
}

Result<void> Server::reload_file() {
  // SIGHUP: the audit log reopens first, even when the file below does not validate (logrotate
  // has moved it and sends SIGHUP through systemctl reload).
  auth_->reopen_audit();
  auto next = load_server_config(config().source);
  if (!next) return next.error();
  return reload(std::move(*next));
}

bool Server::tick() {
  std::optional<ServerConfig> due;
  {
    std::lock_guard lock(mutex_);
    if (scheduled_ && scheduled_->start_at && *scheduled_->start_at <= options_.clock()) {
      due = std::move(scheduled_);
      scheduled_.reset();
    }
  }
  if (!due) return false;
  apply(std::move(*due));
  return true;
}

void Server::stop() {
  if (stopped_.exchange(true)) return;
  auto log = logger("server");
  if (schedule_) schedule_->stop();  // a running job ends first (it may read the store)
  if (ingest_) ingest_->stop();      // no more datagrams; partial batches queued
  if (pipeline_) pipeline_->stop();  // drain, close open sessions, append
  if (query_) query_->stop();
  if (http_) http_->stop();
  if (store_) {
    if (auto r = store_->close(); !r) log->error("closing the store: {}", r.error().message);
  }
  clickhouse_.reset();  // flushes what is pending (or spills it)
  snmp_.reset();
  if (reverse_dns_) {
    reverse_dns_->wait_idle(std::chrono::seconds(2));  // answers in flight land in the table
    reverse_dns_.reset();
    const auto path = config().store.dir / "ipinfo.tsv";
    if (auto r = ip_info_.save(path); !r) log->error("{}", r.error().message);
  }
  if (pipeline_) {
    const PipelineStats p = pipeline_->stats();
    log->info("stopped: {} flows in, {} sessions stored", p.flows, p.sessions);
  }
}

bool Server::healthy() const {
  if (stopped_.load() || !pipeline_) return false;
  const PipelineStats p = pipeline_->stats();
  return p.running && p.store_errors == 0;
}

}  // namespace flowscope::server
