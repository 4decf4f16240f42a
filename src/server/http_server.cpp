#include "server/http_server.h"

#include <chrono>
#include <mutex>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "core/log.h"
#include "server/server.h"
#include "server/transport.h"
#include "server/web_files.h"

namespace flowscope::server {
namespace {

constexpr std::size_t kMaxBody = 4 << 20;  // a form or JSON body; more is refused (413)
constexpr std::size_t kHttpThreads = 48;   // connections served at once (keep-alive included)

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// The route's path as the regular expression httplib matches: "{name}" takes one segment.
std::string path_pattern(std::string_view path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      i = path.find('}', i);
      out += "([^/]+)";
      continue;
    }
    if (std::string_view(".+*?()[]^$|\\").find(path[i]) != std::string_view::npos) {
      out.push_back('\\');
    }
    out.push_back(path[i]);
  }
  return out;
}

// Query string, then the url-encoded body or the multipart fields of a POST.
Result<Params> gather_params(const httplib::Request& req) {
  Params params;
  const std::size_t q = req.target.find('?');
  if (q != std::string::npos) {
    auto p = parse_query_string(std::string_view(req.target).substr(q + 1));
    if (!p) return p.error();
    params = std::move(*p);
  }
  const std::string type = req.get_header_value("Content-Type");
  if (starts_with(type, "application/x-www-form-urlencoded")) {
    auto p = parse_query_string(req.body);
    if (!p) return p.error();
    if (params.size() + p->size() > kMaxParams) {
      return Error{ErrorCode::OutOfRange, fmt::format("more than {} parameters", kMaxParams)};
    }
    params.insert(params.end(), p->begin(), p->end());
  }
  for (const auto& [name, file] : req.files) {
    if (params.size() >= kMaxParams) {
      return Error{ErrorCode::OutOfRange, fmt::format("more than {} parameters", kMaxParams)};
    }
    params.emplace_back(name, file.content);
  }
  return params;
}

// Scrutinizer's error shape: HTTP 200 with {"err", "details"}, as its clients expect (the
// Grafana data source reads `details == "invalidToken"` from a 200 answer).
void scrutinizer_error(httplib::Response& res, std::string_view message, std::string_view details) {
  res.status = 200;
  res.set_content(json_text(nlohmann::json{{"err", message}, {"details", details}}),
                  "application/json");
}

void api_error(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(json_text(body), "application/json");
}

nlohmann::json auth_error(std::string_view code, std::string_view message, std::string_view hint) {
  return {{"error", {{"code", code}, {"message", message}, {"hint", hint}}}};
}

// Headers of every dashboard file: no sniffing, no framing (clickjacking), scripts and styles
// from this origin only (ECharts sets inline styles on its tooltips, hence 'unsafe-inline' for
// styles; no inline scripts are allowed).
void web_headers(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data: blob:; style-src 'self' "
                 "'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                 "form-action 'self'");
}

bool state_changing(std::string_view method) { return method != "GET" && method != "HEAD"; }

}  // namespace

std::string csrf_token(std::string_view key) {
  const std::string input = fmt::format("flowscope-csrf:{}", key);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  std::string hex;
  hex.reserve(2 * sizeof digest);
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
      return std::string(trim(pair.substr(eq + 1)));
    }
  }
  return {};
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::NotFound: return 404;
    case ErrorCode::Io:
    case ErrorCode::Corruption: return 500;
    case ErrorCode::Cancelled: return 503;
    default: return 400;
  }
}

nlohmann::json error_body(const Error& error) {
  nlohmann::json e = {{"code", error_code_name(error.code)}};
  const std::size_t split = error.message.find("; ");
  e["message"] = error.message.substr(0, split);
  if (split != std::string::npos) e["hint"] = error.message.substr(split + 2);
  if (error.where) e["position"] = error.where->offset;
  return {{"error", std::move(e)}};
}

// The certificate of HTTPS handshakes; the OpenSSL certificate callback reads it, so a SIGHUP
// that loads a new pair takes effect at the next handshake.
struct HttpServer::TlsHolder {
  std::mutex mutex;
  std::shared_ptr<const TlsContext> current;  // guarded by mutex

  static int on_handshake(SSL* ssl, void* arg) {
    auto* self = static_cast<TlsHolder*>(arg);
    std::shared_ptr<const TlsContext> tls;
    {
      std::lock_guard lock(self->mutex);
      tls = self->current;
    }
    if (!tls) return 0;
    SSL_CTX* ctx = tls->native();
    X509* cert = SSL_CTX_get0_certificate(ctx);
    EVP_PKEY* key = SSL_CTX_get0_privatekey(ctx);
    if (cert == nullptr || key == nullptr) return 0;
    STACK_OF(X509)* chain = nullptr;
    SSL_CTX_get0_chain_certs(ctx, &chain);
    if (SSL_use_certificate(ssl, cert) != 1 || SSL_use_PrivateKey(ssl, key) != 1) return 0;
    if (chain != nullptr && SSL_set1_chain(ssl, chain) != 1) return 0;
    return 1;
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(Server& server, std::vector<Route> routes,
                                                      std::shared_ptr<const TlsContext> tls) {
  const ServerConfig config = server.config();
  std::unique_ptr<HttpServer> h(new HttpServer(server));
  h->routes_ = std::move(routes);
  h->tls_ = std::make_shared<TlsHolder>();
  if (tls) {
    h->tls_->current = std::move(tls);
    TlsHolder* holder = h->tls_.get();
    auto ssl = std::make_unique<httplib::SSLServer>([holder](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_cert_cb(&ctx, &TlsHolder::on_handshake, holder);
      return true;
    });
    if (!ssl->is_valid()) return Error{ErrorCode::Io, "cannot set up HTTPS (OpenSSL)"};
    h->http_ = std::move(ssl);
    h->tls_enabled_ = true;
  } else {
    h->http_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& srv = *h->http_;
  srv.set_payload_max_length(kMaxBody);
  // Dashboards and scripts poll on one connection: keep it longer than httplib's 5 s / 5
  // requests (an idle connection still holds a worker thread only while it waits for bytes).
  srv.set_keep_alive_max_count(100);
  srv.set_keep_alive_timeout(30);
  // An idle keep-alive connection holds a worker thread. httplib's pool has 8 (on 2 cores), and a
  // browser opens up to 6 connections per origin: one dashboard tab and a script kept the page
  // of a second tab waiting 20 s for a thread (web/tests, F11). The threads mostly sleep; a
  // pool of kHttpThreads serves a NOC's few screens plus scripts.
  srv.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  Server* s = &server;
  srv.set_pre_routing_handler([s](const httplib::Request& req, httplib::Response& res) {
    auto peer = IpAddress::parse(req.remote_addr);
    if (!peer || !allowed(s->config().http.allow, *peer)) {
      api_error(
          res, 403,
          auth_error("forbidden", fmt::format("address {} is not in [http] allow", req.remote_addr),
                     "ask the administrator to add it to [http] allow"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  for (const Route& route : h->routes_) {
    const Route* r = &route;
    HttpServer* self = h.get();
    auto handler = [self, r](const httplib::Request& req, httplib::Response& res) {
      self->dispatch(*r, req, res);
    };
    const std::string pattern = path_pattern(route.path);
    if (route.method == "GET") {
      srv.Get(pattern, handler);
    } else if (route.method == "POST") {
      srv.Post(pattern, handler);
    } else if (route.method == "DELETE") {
      srv.Delete(pattern, handler);
    }
  }
  // The dashboard: every other GET. Registered after the routes (httplib tries handlers in
  // order), so an API path never reaches it; unknown API paths still answer JSON.
  auto web_dir = find_web_dir(config.http.web_dir);
  if (!web_dir) return Error{web_dir.error().code, config.source + ": " + web_dir.error().message};
  if (*web_dir) {
    auto files = WebFiles::load(**web_dir);
    if (!files) return files.error();
    logger("server")->info("dashboard: {} files from {}", files->size(), (*web_dir)->string());
    h->web_ = std::make_unique<const WebFiles>(std::move(*files));
  }
  const WebFiles* web = h->web_.get();
  srv.Get("/.*", [web](const httplib::Request& req, httplib::Response& res) {
    if (starts_with(req.path, "/api/") || starts_with(req.path, "/fcgi/")) {
      return api_error(res, 404,
                       auth_error("NotFound", fmt::format("no route {} {}", req.method, req.path),
                                  "see GET /api/v1/openapi.json for the routes"));
    }
    if (web == nullptr) {
      return api_error(
          res, 404,
          auth_error("NotFound", "the web dashboard is not installed",
                     "build it (make build with npm on the PATH, see docs/web.md), or set "
                     "[http] web_dir to its built files; the API is under /api/v1"));
    }
    const WebFile* f = web->lookup(req.path);
    if (f == nullptr) {
      return api_error(res, 404,
                       auth_error("NotFound", fmt::format("no file {}", req.path),
                                  "the dashboard is at /; its pages are under /#/"));
    }
    web_headers(res);
    res.set_header("Cache-Control",
                   f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    res.set_content(f->content, f->content_type);
  });
  srv.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      api_error(res, 404,
                auth_error("NotFound", fmt::format("no route {} {}", req.method, req.path),
                           "see GET /api/v1/openapi.json for the routes"));
    } else if (res.status == 413) {
      api_error(
          res, 413,
          auth_error("OutOfRange", "the request body is larger than 4 MiB", "send a smaller body"));
    }
  });
  int bound = 0;
  if (config.http.port == 0) {
    bound = srv.bind_to_any_port(config.http.address);
  } else {
    bound = srv.bind_to_port(config.http.address, config.http.port) ? config.http.port : -1;
  }
  if (bound <= 0) {
    return Error{ErrorCode::Io, fmt::format("cannot listen on HTTP {}:{}; set [http] port to a "
                                            "free port",
                                            config.http.address, config.http.port)};
  }
  h->port_ = static_cast<std::uint16_t>(bound);
  httplib::Server* raw = h->http_.get();
  std::atomic<bool>* returned = &h->listen_returned_;
  h->thread_ = std::thread([raw, returned] {
    raw->listen_after_bind();
    returned->store(true);
  });
  logger("server")->info("HTTP{} API on {}:{} ({} routes)", h->tls_enabled_ ? "S" : "",
                         config.http.address, h->port_, h->routes_.size());
  return h;
}

void HttpServer::set_tls(std::shared_ptr<const TlsContext> tls) {
  if (!tls_enabled_ || !tls) return;
  std::lock_guard lock(tls_->mutex);
  tls_->current = std::move(tls);
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() does nothing until listen_after_bind has set its running flag: a stop
  // right after start (a failed start, a test that stops at once) would otherwise leave the
  // listener to start afterwards and block the join for ever (seen in CI under load).
  while (!http_->is_running() && !listen_returned_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  http_->stop();
  thread_.join();
}

HttpServer::HttpServer(Server& server) : server_(server) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::dispatch(const Route& route, const httplib::Request& req, httplib::Response& res) {
  const auto started = std::chrono::steady_clock::now();
  struct Observe {  // every answer, refusals included, is one latency sample
    LatencyHistogram& histogram;
    std::chrono::steady_clock::time_point started;
    ~Observe() { histogram.observe(std::chrono::steady_clock::now() - started); }
  } observe{server_.http_latency(), started};
  const bool scrut = route.access == Access::Scrutinizer;
  auto peer = IpAddress::parse(req.remote_addr);
  if (!peer) {
    api_error(res, 400, auth_error("InvalidArgument", "unknown client address", ""));
    return;
  }
  auto params = gather_params(req);
  if (!params) {
    if (scrut) return scrutinizer_error(res, params.error().message, "badRequest");
    return api_error(res, 400, error_body(params.error()));
  }
  HttpCall call{req, res, *peer, std::nullopt, std::move(*params), {}, {}};
  for (std::size_t i = 1; i < req.matches.size(); ++i) call.path.push_back(req.matches[i]);

  const ServerConfig config = server_.config();
  Access access = route.access;
  if (access == Access::Metrics)
    access = config.http.metrics_public ? Access::Public : Access::Admin;
  if (access != Access::Public) {
    std::string credential;
    const std::string authz = req.get_header_value("Authorization");
    if (starts_with(authz, "Bearer ")) credential = std::string(trim(authz.substr(7)));
    if (credential.empty()) {
      if (const std::string* t = find_param(call.params, "authToken")) credential = *t;
    }
    if (credential.empty()) {
      // The dashboard's cookie. Only a session key: a token in a cookie is not a thing we issue.
      credential = cookie_value(req.get_header_value("Cookie"), kKeyCookie);
      call.via_cookie = !credential.empty();
      if (call.via_cookie && starts_with(credential, "fst_")) credential.clear();
    }
    if (credential.empty()) {
      server_.auth().audit("request_refused", "", *peer, "no credentials");
      if (scrut)
        return scrutinizer_error(res, "Request cannot be authenticated: no authToken",
                                 "invalidToken");
      return api_error(res, 401,
                       auth_error("unauthorized", "no credentials",
                                  "send Authorization: Bearer KEY (POST /api/v1/login) or an API "
                                  "token (flowscope user token add)"));
    }
    auto who = starts_with(credential, "fst_")
                   ? server_.auth().token(credential, *peer, config.http.token_allow)
                   : server_.auth().resume(credential, *peer);
    if (!who) {
      const std::string& m = who.error().message;
      const std::string code = m.substr(0, m.find(':'));
      if (scrut) {
        return scrutinizer_error(res, m, code == "key_unknown" ? "invalidToken" : code);
      }
      return api_error(res, code == "address_refused" ? 403 : 401,
                       auth_error(code, m.substr(std::min(m.size(), code.size() + 2)),
                                  "log in again (POST /api/v1/login) or use a valid API token"));
    }
    if (!starts_with(credential, "fst_")) call.bearer = credential;
    // A browser sends the cookie with any request to this origin, also one another site's page
    // makes it send (SameSite=Strict stops most, not older browsers or same-site subdomains).
    // So a state-changing request on the cookie must prove it comes from a page that could read
    // GET /api/v1/me: the CSRF token of its key.
    if (call.via_cookie && state_changing(req.method)) {
      const std::string sent = req.get_header_value(std::string(kCsrfHeader));
      const std::string want = csrf_token(credential);
      if (sent.size() != want.size() || CRYPTO_memcmp(sent.data(), want.data(), want.size()) != 0) {
        server_.auth().audit("request_refused", who->user, *peer,
                             fmt::format("{} {} without its CSRF token", route.method, route.path));
        return api_error(res, 403,
                         auth_error("csrf",
                                    fmt::format("{} {} with the session cookie needs the "
                                                "X-CSRF-Token header",
                                                route.method, route.path),
                                    "send the csrf value of GET /api/v1/me as X-CSRF-Token (the "
                                    "dashboard does), or use Authorization: Bearer"));
      }
    }
    if (access == Access::Admin && who->role != Role::Admin) {
      server_.auth().audit("request_refused", who->user, *peer,
                           fmt::format("{} {} needs the admin role", route.method, route.path));
      return api_error(
          res, 403,
          auth_error("forbidden", fmt::format("{} {} is for admins", route.method, route.path),
                     "ask an admin"));
    }
    call.principal = std::move(*who);
  }
  Result<HttpReply> reply = Error{ErrorCode::Io, "no answer"};
  try {
    reply = route.handler(call);
  } catch (const nlohmann::json::exception& e) {
    // A member of the request's JSON with another type than the route reads: bad input.
    reply = Error{ErrorCode::InvalidArgument,
                  fmt::format("a JSON value of the request has the wrong type ({}); see "
                              "docs/http.md for the shape",
                              e.what())};
  } catch (const std::exception& e) {
    // The boundary of docs/conventions.md "Errors": a handler's exception is one request's 500, not
    // the server's.
    logger("server")->error("{} {}: {}", req.method, req.path, e.what());
    reply = Error{ErrorCode::Io, fmt::format("internal error: {}", e.what())};
  }
  if (!reply) {
    if (scrut) return scrutinizer_error(res, reply.error().message, "badRequest");
    return api_error(res, http_status(reply.error().code), error_body(reply.error()));
  }
  if (reply->written) return;
  res.status = reply->status;
  res.set_content(json_text(reply->body), "application/json");
}

}  // namespace flowscope::server
