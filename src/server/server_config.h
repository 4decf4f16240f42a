#pragma once
// ServerConfig: the settings of `flowscope serve`, read from a TOML file (docs/serve.md lists
// every key with its default). Loading validates everything before the daemon starts: an
// unknown key, a wrong type or a bad value is an error naming the file, the line and the fix
// ("serve.toml:12: [ingest] workers must be 0 (one per core) to 256").
//
// A file may carry `start_at`: it is then the configuration that takes effect at that time (as
// trafMon's -n file); until then the running one stays. Plain values; any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cidr.h"
#include "core/result.h"
#include "core/time.h"

#include "report/schedule.h"

namespace flowscope::server {

struct IngestConfig {
  // Addresses the UDP listeners bind; "::" binds IPv6 only (IPV6_V6ONLY), so list both families.
  std::vector<std::string> listen = {"0.0.0.0", "::"};
  std::uint16_t netflow_port = 2055;  // NetFlow v1/v5/v7/v9 (any flow export is accepted)
  std::uint16_t ipfix_port = 4739;
  std::uint16_t sflow_port = 6343;
  unsigned workers = 0;                  // receive workers; 0 = one per core
  std::size_t socket_buffer = 32 << 20;  // SO_RCVBUF bytes per socket
  std::size_t queue_batches = 64;        // bound of the decode -> stitch queue, in batches
  std::size_t batch_rows = 4096;         // rows per batch a worker hands over
};

struct StitchConfig {
  DurationMs window{std::chrono::seconds(60)};
  std::size_t max_open = 1u << 20;  // over all shards
  unsigned shards = 0;              // stitch/enrich/store workers; 0 = one per core
  // A shard that received nothing for this long moves its record time on by the wall clock, so
  // an exporter that went quiet still has its sessions closed (docs/serve.md).
  DurationMs quiet_after{100};
};

struct EnrichConfig {
  std::filesystem::path geoip_city;
  std::filesystem::path geoip_asn;
  std::filesystem::path ip_groups;
  std::filesystem::path services;  // services.tsv; empty: the shipped table when found
  // Reverse DNS of session addresses into DATADIR/ipinfo.tsv (docs/enrich.md).
  bool reverse_dns = false;
  std::vector<std::string> dns_servers;  // "host:port"; empty: /etc/resolv.conf
  std::int64_t dns_rate = 200;           // queries per second at most
  // SNMP polling of exporters' interface names (IF-MIB); agents "exporter" or
  // "exporter=agent:port".
  std::vector<std::string> snmp_targets;
  std::string snmp_community = "public";
  DurationMs snmp_interval{std::chrono::hours(1)};
};

struct StoreSection {
  std::filesystem::path dir;  // required
  // "embedded" (the store in dir) or "clickhouse": sessions go to the cluster of `clickhouse`
  // (a clickhouse:// URL, docs/scale-out.md); dir still holds the flow log, checkpoints, users
  // and the spill queue (dir/clickhouse-spill unless the URL sets spill_dir).
  std::string backend = "embedded";
  std::string clickhouse;
  DurationMs sync_interval{std::chrono::seconds(1)};
  std::size_t flush_rows = 200'000;  // store tail sealed at this size (its memory)
  DurationMs commit_interval{std::chrono::seconds(1)};  // longest a session waits for append
};

// [query] connection limits (docs/serve.md "Connection limits"): bounds on what clients that
// have not logged in can hold, so that idle connections cannot lock the users out.
struct QueryLimits {
  std::size_t max_connections = 64;  // at a time, all states
  std::size_t per_address = 8;       // max_connections_per_address, logged in or not
  std::size_t admin_reserved = 2;    // of max_connections, only admins may use them
  DurationMs handshake_timeout{std::chrono::seconds(5)};  // connect -> Login frame read
};

struct ListenerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::vector<Cidr> allow;  // empty: every address
  // [query] only: TLS (docs/serve.md). Both files or neither; checked when the file is read.
  std::filesystem::path tls_cert;  // PEM certificate chain
  std::filesystem::path tls_key;   // PEM private key of tls_cert
  bool tls_required = false;       // refuse plain connections
  QueryLimits limits;              // [query] only
  // [http] only (docs/http.md):
  bool tls = false;                  // HTTPS with [query] tls_cert/tls_key (re-read on SIGHUP)
  bool metrics_public = true;        // /metrics and /healthz answer without a login
  std::filesystem::path allow_file;  // where API tokens may come from (auth_ips.cfg style)
  std::vector<Cidr> token_allow;     // allow_file's entries, read with the configuration
  std::filesystem::path web_dir;     // the dashboard's built files (docs/web.md); empty: found
};

struct AuthConfig {
  std::filesystem::path users;      // users.json (flowscope user); empty: DATADIR/users.json
  std::filesystem::path audit_log;  // empty: DATADIR/audit.log
  DurationMs key_idle{std::chrono::minutes(30)};
  DurationMs max_key_age{std::chrono::hours(24)};  // maxsessionkeyage
  unsigned max_failures = 5;                       // failed logins per address in the window
  DurationMs failure_window{std::chrono::minutes(5)};
  DurationMs lockout{std::chrono::minutes(5)};
};

struct ServerConfig {
  std::string source;  // the file it was read from, for messages
  // Line of each key and section ("store.dir", "http.port", "enrich"), for the errors of checks
  // that run after parsing (Server::check).
  std::map<std::string, std::size_t> lines;
  std::optional<TimeMs> start_at;
  std::string log_level = "info";
  IngestConfig ingest;
  StitchConfig stitch;
  EnrichConfig enrich;
  StoreSection store;
  ListenerConfig query{"127.0.0.1", 9640, {}, {}, {}, false, {}, false, true, {}, {}, {}};
  ListenerConfig http{"127.0.0.1", 9641, {}, {}, {}, false, {}, false, true, {}, {}, {}};
  AuthConfig auth;
  // [[schedule]] jobs run by the built-in scheduler (report/schedule.h, docs/reports.md).
  std::vector<report::ScheduleJob> schedule;

  std::filesystem::path users_path() const {
    return auth.users.empty() ? store.dir / "users.json" : auth.users;
  }
  std::filesystem::path audit_path() const {
    return auth.audit_log.empty() ? store.dir / "audit.log" : auth.audit_log;
  }
  // "serve.toml:12" for "store.dir" when the file sets it, else "serve.toml" (a default).
  std::string where(std::string_view key) const;
};

// Parses and validates. `source` names the input in errors. Relative paths are resolved
// against `base_dir` (the file's directory).
Result<ServerConfig> parse_server_config(std::string_view text, std::string_view source,
                                         const std::filesystem::path& base_dir = {});
Result<ServerConfig> load_server_config(const std::filesystem::path& path);

// Reads an allow-list file ([http] allow_file, like Scrutinizer's auth_ips.cfg): one address or
// CIDR per line, `#` starts a comment, blank lines are skipped. Errors name the file and line.
Result<std::vector<Cidr>> load_allow_file(const std::filesystem::path& path);
Result<std::vector<Cidr>> parse_allow_list(std::string_view text, std::string_view source);

// What a reload cannot change without a restart (listeners, data directory); one line each,
// empty when the new configuration can be applied in place.
std::vector<std::string> restart_needed(const ServerConfig& running, const ServerConfig& next);

}  // namespace flowscope::server
