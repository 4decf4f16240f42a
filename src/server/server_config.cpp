#include "server/server_config.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/toml_section.h"
#include "server/transport.h"

namespace flowscope::server {
namespace {

// The shared section reader (core/toml_section.h) with the server's two own value kinds: a path
// relative to the configuration file and a list of networks.
class SectionReader : public TomlSection {
 public:
  SectionReader(const toml::table* table, std::string section, std::string_view source,
                const std::filesystem::path& base)
      : TomlSection(table, source, std::move(section)), base_(base) {}

  Result<void> path(std::string_view key, std::filesystem::path& out) {
    std::string text;
    if (auto r = string(key, text); !r) return r;
    if (text.empty()) return {};
    std::filesystem::path p(text);
    out = p.is_relative() && !base_.empty() ? base_ / p : p;
    return {};
  }

  Result<void> cidr_list(std::string_view key, std::vector<Cidr>& out) {
    std::vector<std::string> items;
    if (auto r = string_list(key, items); !r) return r;
    out.clear();
    for (const std::string& item : items) {
      auto c = Cidr::parse(item, Cidr::HostBits::Reject);
      if (!c) {
        return key_error(
            find(key), key,
            fmt::format("\"{}\": {}; write networks as \"10.0.0.0/8\"", item, c.error().message));
      }
      out.push_back(*c);
    }
    return {};
  }

 private:
  const std::filesystem::path& base_;
};

Result<void> read_listener(SectionReader& r, ListenerConfig& out, std::string_view section) {
  if (auto e = r.string("listen", out.address); !e) return e;
  if (auto e = r.integer("port", out.port, 0, 65535, " (0: any free port)"); !e) return e;
  if (auto e = r.cidr_list("allow", out.allow); !e) return e;
  auto a = IpAddress::parse(out.address);
  if (!a) {
    return r.error_at(nullptr, fmt::format("[{}] listen \"{}\" is not an IP address; use e.g. "
                                           "\"127.0.0.1\" or \"::\"",
                                           section, out.address));
  }
  return r.check_keys();
}

// "section.key" (and "section") -> line, for ServerConfig::where.
void record_lines(const toml::table& root, std::map<std::string, std::size_t>& out) {
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    out[name] = static_cast<std::size_t>(node.source().begin.line);
    if (const toml::table* t = node.as_table()) {
      for (const auto& [sub, sub_node] : *t) {
        out[name + "." + std::string(sub.str())] =
            static_cast<std::size_t>(sub_node.source().begin.line);
      }
    }
  }
}

}  // namespace

Result<ServerConfig> parse_server_config(std::string_view text, std::string_view source,
                                         const std::filesystem::path& base_dir) {
  auto parsed = parse_toml(text, source);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  ServerConfig cfg;
  cfg.source = std::string(source);
  const std::filesystem::path& base = base_dir;

  SectionReader top(&root, "", source, base);
  static constexpr std::string_view kSections[] = {"ingest", "stitch", "enrich", "store",
                                                   "query",  "http",   "auth"};
  for (std::string_view s : kSections) {
    const toml::node* n = top.find(s);
    if (n != nullptr && !n->is_table()) {
      return top.error_at(n, fmt::format("{} must be a table: write [{}] on its own line", s, s));
    }
  }
  std::string start_at;
  if (auto e = top.string("start_at", start_at); !e) return e.error();
  if (!start_at.empty()) {
    auto t = parse_time(start_at, TimeContext{});
    if (!t) {
      return top.error_at(root.get("start_at"),
                          fmt::format("start_at \"{}\": {}; use e.g. \"2026-11-24T18:00:00Z\"",
                                      start_at, t.error().message));
    }
    cfg.start_at = *t;
  }
  if (auto e = top.string("log_level", cfg.log_level); !e) return e.error();
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), cfg.log_level) == std::end(kLevels)) {
    return top.error_at(root.get("log_level"),
                        fmt::format("log_level \"{}\" is not one of trace, debug, info, warn, "
                                    "error, off",
                                    cfg.log_level));
  }
  if (top.find("schedule") != nullptr) {
    auto jobs = report::parse_schedule(text, source);
    if (!jobs) return jobs.error();
    cfg.schedule = std::move(*jobs);
  }
  if (auto e = top.check_keys(); !e) return e.error();

  {
    SectionReader r(root["ingest"].as_table(), "ingest", source, base);
    IngestConfig& in = cfg.ingest;
    if (auto e = r.string_list("listen", in.listen); !e) return e.error();
    for (const std::string& a : in.listen) {
      if (!IpAddress::parse(a)) {
        return r.error_at(root["ingest"]["listen"].node(),
                          fmt::format("[ingest] listen: \"{}\" is not an IP address; use e.g. "
                                      "\"0.0.0.0\" or \"::\"",
                                      a));
      }
    }
    const std::string_view port_hint = " (0: any free port)";
    if (auto e = r.integer("netflow_port", in.netflow_port, 0, 65535, port_hint); !e) {
      return e.error();
    }
    if (auto e = r.integer("ipfix_port", in.ipfix_port, 0, 65535, port_hint); !e) {
      return e.error();
    }
    if (auto e = r.integer("sflow_port", in.sflow_port, 0, 65535, port_hint); !e) {
      return e.error();
    }
    if (auto e = r.integer("workers", in.workers, 0, 256, " (0: one per core)"); !e) {
      return e.error();
    }
    if (auto e = r.integer("socket_buffer", in.socket_buffer, 65536, std::int64_t{1} << 31, "");
        !e) {
      return e.error();
    }
    if (auto e = r.integer("queue_batches", in.queue_batches, 1, 1 << 20, ""); !e) {
      return e.error();
    }
    if (auto e = r.integer("batch_rows", in.batch_rows, 1, 65535, ""); !e) return e.error();
    if (auto e = r.check_keys(); !e) return e.error();
  }
  {
    SectionReader r(root["stitch"].as_table(), "stitch", source, base);
    if (auto e = r.duration("window", cfg.stitch.window); !e) return e.error();
    if (auto e = r.integer("max_open", cfg.stitch.max_open, 1024, std::int64_t{1} << 30, ""); !e) {
      return e.error();
    }
    if (auto e = r.integer("shards", cfg.stitch.shards, 0, 256, " (0: one per core)"); !e) {
      return e.error();
    }
    if (auto e = r.duration("quiet_after", cfg.stitch.quiet_after); !e) return e.error();
    if (auto e = r.check_keys(); !e) return e.error();
  }
  {
    SectionReader r(root["enrich"].as_table(), "enrich", source, base);
    if (auto e = r.path("geoip_city", cfg.enrich.geoip_city); !e) return e.error();
    if (auto e = r.path("geoip_asn", cfg.enrich.geoip_asn); !e) return e.error();
    if (auto e = r.path("ip_groups", cfg.enrich.ip_groups); !e) return e.error();
    if (auto e = r.path("services", cfg.enrich.services); !e) return e.error();
    if (auto e = r.boolean("reverse_dns", cfg.enrich.reverse_dns); !e) return e.error();
    if (auto e = r.string_list("dns_servers", cfg.enrich.dns_servers); !e) return e.error();
    if (auto e = r.integer("dns_rate", cfg.enrich.dns_rate, 1, 100000, ""); !e) return e.error();
    if (auto e = r.string_list("snmp_targets", cfg.enrich.snmp_targets); !e) return e.error();
    for (const std::string& t : cfg.enrich.snmp_targets) {
      const std::string exporter = t.substr(0, t.find('='));
      if (!IpAddress::parse(exporter)) {
        return r.error_at(r.find("snmp_targets"),
                          fmt::format("[enrich] snmp_targets: \"{}\" does not start with the "
                                      "exporter's address; write \"192.0.2.1\" or "
                                      "\"192.0.2.1=10.0.0.1:161\"",
                                      t));
      }
    }
    if (auto e = r.string("snmp_community", cfg.enrich.snmp_community); !e) return e.error();
    if (auto e = r.duration("snmp_interval", cfg.enrich.snmp_interval); !e) return e.error();
    if (auto e = r.check_keys(); !e) return e.error();
  }
  {
    const toml::table* t = root["store"].as_table();
    SectionReader r(t, "store", source, base);
    if (auto e = r.path("dir", cfg.store.dir); !e) return e.error();
    if (cfg.store.dir.empty()) {
      return r.error_at(t,
                        "[store] dir is required: add dir = \"/var/lib/flowscope\" under "
                        "[store]");
    }
    if (auto e = r.string("backend", cfg.store.backend); !e) return e.error();
    if (auto e = r.string("clickhouse", cfg.store.clickhouse); !e) return e.error();
    if (cfg.store.backend != "embedded" && cfg.store.backend != "clickhouse") {
      return r.error_at(root["store"]["backend"].node(),
                        fmt::format("[store] backend \"{}\" is not \"embedded\" or "
                                    "\"clickhouse\"",
                                    cfg.store.backend));
    }
    if (cfg.store.backend == "clickhouse" && cfg.store.clickhouse.empty()) {
      return r.error_at(t,
                        "[store] backend = \"clickhouse\" needs the cluster: add clickhouse = "
                        "\"clickhouse://HOST:8123,HOST:8123/DB\" under [store] "
                        "(docs/scale-out.md)");
    }
    // 0: every append is synced before it returns (docs/storage.md, EmbeddedStore).
    if (auto e = r.duration("sync_interval", cfg.store.sync_interval, /*zero_allowed=*/true); !e) {
      return e.error();
    }
    if (auto e = r.duration("commit_interval", cfg.store.commit_interval); !e) return e.error();
    if (auto e = r.integer("flush_rows", cfg.store.flush_rows, 1000, std::int64_t{1} << 32, "");
        !e) {
      return e.error();
    }
    if (auto e = r.check_keys(); !e) return e.error();
  }
  {
    SectionReader r(root["query"].as_table(), "query", source, base);
    ListenerConfig& q = cfg.query;
    if (auto e = r.path("tls_cert", q.tls_cert); !e) return e.error();
    if (auto e = r.path("tls_key", q.tls_key); !e) return e.error();
    if (auto e = r.boolean("tls_required", q.tls_required); !e) return e.error();
    const toml::node* cert_node = root["query"]["tls_cert"].node();
    const toml::node* key_node = root["query"]["tls_key"].node();
    if (q.tls_cert.empty() != q.tls_key.empty()) {
      return r.error_at(q.tls_cert.empty() ? key_node : cert_node,
                        "[query] tls_cert and tls_key go together: give both PEM files, or "
                        "neither for plain TCP");
    }
    if (q.tls_required && q.tls_cert.empty()) {
      return r.error_at(root["query"]["tls_required"].node(),
                        "[query] tls_required needs tls_cert and tls_key");
    }
    if (!q.tls_cert.empty()) {
      // The files are read now so that a bad path or key stops `serve` (and --check, and a
      // reload) with the line, rather than failing at the first connection.
      if (auto ctx = TlsContext::server(q.tls_cert, q.tls_key); !ctx) {
        const std::string& m = ctx.error().message;
        return r.error_at(m.rfind("[query] tls_key", 0) == 0 ? key_node : cert_node, m);
      }
    }
    QueryLimits& lim = q.limits;
    if (auto e = r.integer("max_connections", lim.max_connections, 1, 4096, ""); !e) {
      return e.error();
    }
    const std::string within = fmt::format(" (at most max_connections, {})", lim.max_connections);
    if (auto e = r.integer("max_connections_per_address", lim.per_address, 1,
                           static_cast<std::int64_t>(lim.max_connections), within);
        !e) {
      return e.error();
    }
    if (auto e = r.integer("admin_reserved_connections", lim.admin_reserved, 0,
                           static_cast<std::int64_t>(lim.max_connections) - 1,
                           fmt::format(" (below max_connections, {}: others need a slot too)",
                                       lim.max_connections));
        !e) {
      return e.error();
    }
    if (auto e = r.duration("handshake_timeout", lim.handshake_timeout); !e) return e.error();
    // Defaults shrink with a small max_connections (values given were checked above).
    lim.per_address = std::min(lim.per_address, lim.max_connections);
    lim.admin_reserved = std::min(lim.admin_reserved, lim.max_connections - 1);
    if (auto e = read_listener(r, cfg.query, "query"); !e) return e.error();
  }
  {
    SectionReader r(root["http"].as_table(), "http", source, base);
    ListenerConfig& h = cfg.http;
    if (auto e = r.boolean("tls", h.tls); !e) return e.error();
    if (auto e = r.boolean("metrics_public", h.metrics_public); !e) return e.error();
    if (auto e = r.path("allow_file", h.allow_file); !e) return e.error();
    if (auto e = r.path("web_dir", h.web_dir); !e) return e.error();
    if (h.tls && cfg.query.tls_cert.empty()) {
      return r.error_at(root["http"]["tls"].node(),
                        "[http] tls uses the certificate of the query port: set [query] tls_cert "
                        "and tls_key, or tls = false");
    }
    if (!h.allow_file.empty()) {
      auto allow = load_allow_file(h.allow_file);
      if (!allow) return r.error_at(root["http"]["allow_file"].node(), allow.error().message);
      h.token_allow = std::move(*allow);
    }
    if (auto e = read_listener(r, cfg.http, "http"); !e) return e.error();
  }
  {
    SectionReader r(root["auth"].as_table(), "auth", source, base);
    AuthConfig& a = cfg.auth;
    if (auto e = r.path("users", a.users); !e) return e.error();
    if (auto e = r.path("audit_log", a.audit_log); !e) return e.error();
    if (auto e = r.duration("key_idle", a.key_idle); !e) return e.error();
    if (auto e = r.duration("maxsessionkeyage", a.max_key_age); !e) return e.error();
    if (auto e = r.integer("max_failures", a.max_failures, 1, 1000, ""); !e) return e.error();
    if (auto e = r.duration("failure_window", a.failure_window); !e) return e.error();
    if (auto e = r.duration("lockout", a.lockout); !e) return e.error();
    if (auto e = r.check_keys(); !e) return e.error();
  }
  record_lines(root, cfg.lines);
  return cfg;
}

std::string ServerConfig::where(std::string_view key) const {
  auto it = lines.find(std::string(key));
  return it == lines.end() ? source : fmt::format("{}:{}", source, it->second);
}

Result<ServerConfig> load_server_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{
        ErrorCode::NotFound,
        fmt::format("{}: cannot open the configuration file; check the path (-c)", path.string())};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_server_config(ss.str(), path.string(), path.parent_path());
}

std::vector<std::string> restart_needed(const ServerConfig& running, const ServerConfig& next) {
  std::vector<std::string> out;
  const IngestConfig& a = running.ingest;
  const IngestConfig& b = next.ingest;
  if (a.listen != b.listen || a.netflow_port != b.netflow_port || a.ipfix_port != b.ipfix_port ||
      a.sflow_port != b.sflow_port || a.workers != b.workers ||
      a.socket_buffer != b.socket_buffer || a.queue_batches != b.queue_batches) {
    out.push_back("[ingest] listeners and workers");
  }
  if (running.stitch.shards != next.stitch.shards) out.push_back("[stitch] shards");
  if (running.stitch.quiet_after != next.stitch.quiet_after) {
    out.push_back("[stitch] quiet_after");
  }
  if (running.store.dir != next.store.dir) out.push_back("[store] dir");
  if (running.query.address != next.query.address || running.query.port != next.query.port) {
    out.push_back("[query] listen/port");
  }
  if (running.http.address != next.http.address || running.http.port != next.http.port) {
    out.push_back("[http] listen/port");
  }
  return out;
}

}  // namespace flowscope::server
