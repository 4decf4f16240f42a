#pragma once
// Internal to flowscope_server: other modules use its public headers.
// HttpServer: the [http] listener of `flowscope serve` (docs/http.md): the JSON API under
// /api/v1, Scrutinizer's /fcgi/scrut_fcgi.fcgi, /metrics and /healthz, over HTTP or HTTPS
// (cpp-httplib; HTTPS with the query port's certificate, replaced on SIGHUP).
//
// One route table (Route, below) drives both the dispatch and the OpenAPI document
// (/api/v1/openapi.json, openapi.cpp): a route names its method, path, who may call it, its
// parameters and its handler. The dispatcher checks [http] allow, authenticates (session key or
// API token in `Authorization: Bearer`, Scrutinizer's `authToken=`, or the dashboard's session
// key cookie, which must come with its X-CSRF-Token on every request but GET), checks the route's
// Access, runs the handler and renders its Error as {"error": {code, message, position, hint}}
// with the status of its code (or as {"err", "details"} on Scrutinizer's route). An exception
// out of a handler is a boundary (docs/conventions.md "Errors"): it becomes a 500 with the message.
//
// Every credential, whichever way it came, resolves to a Principal through AuthService, and the
// handlers apply that Principal's data permissions (restrict_selection): the way a key arrives
// changes nothing about what it may see.
// Anything else under GET is the dashboard's built files (web_files.h), public like a login
// page: the data it shows comes through the API above.
//
// Threads: start() and stop() from the control thread; handlers run on httplib's worker
// threads, several at once, so everything they reach through HttpContext is thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/cidr.h"
#include "core/result.h"
#include "server/auth.h"
#include "server/http_request.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace flowscope::server {

class Server;
class TlsContext;
class WebFiles;

// The dashboard's cookie (docs/web.md): the session key, HttpOnly and SameSite=Strict.
inline constexpr std::string_view kKeyCookie = "flowscope_key";
// The header a cookie-authenticated request other than GET/HEAD must carry: csrf_token(key).
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
// The CSRF token of a session key: SHA-256 of a label and the key, hex. Only a page that can
// read GET /api/v1/me (same origin) learns it; another site's form or fetch cannot.
std::string csrf_token(std::string_view key);
// The value of cookie `name` in a Cookie header; empty when absent.
std::string cookie_value(std::string_view header, std::string_view name);

// Who may call a route.
enum class Access : std::uint8_t {
  Public,       // anyone within [http] allow
  Metrics,      // Public while [http] metrics_public, else Admin
  User,         // a session key or API token
  Admin,        // ... of an admin
  Scrutinizer,  // authToken= (or a session key); Scrutinizer's error shape
};

struct RouteParam {
  std::string_view name;
  std::string_view in = "query";  // "query", "path" or "body"
  std::string_view type = "string";
  std::string_view description;
  bool required = false;
  // Allowed values (OpenAPI enum); the registry's field names for field parameters.
  std::vector<std::string> choices;
};

// What one request carries, as the handlers see it.
struct HttpCall {
  const httplib::Request& request;
  httplib::Response& response;
  IpAddress peer;
  std::optional<Principal> principal;  // set for User, Admin, Scrutinizer routes
  Params params;                       // query string, then the url-encoded or multipart form
  std::vector<std::string> path;       // the {…} segments of the route's path, in order
  std::string bearer;                  // the session key the request came with, if any
  bool via_cookie = false;             // ... in the dashboard's cookie
};

// A handler's answer: a JSON body (status 200 unless set), or it wrote `response` itself
// (streaming) and returns `written`.
struct HttpReply {
  int status = 200;
  nlohmann::json body;
  bool written = false;
};

using HttpHandler = std::function<Result<HttpReply>(HttpCall&)>;

struct Route {
  std::string_view method;  // GET, POST, DELETE
  std::string path;         // "/api/v1/ipinfo/{addr}"
  Access access = Access::User;
  std::string_view summary;
  std::vector<RouteParam> params;
  std::string_view response;  // the OpenAPI schema the 200 answer follows (openapi.cpp)
  HttpHandler handler;
};

// The HTTP status of an error code (400 for input errors, 404 NotFound, 500 Io, ...).
int http_status(ErrorCode code);
// {"error": {"code", "message", "position"?, "hint"?}}: the message up to the first "; ", the
// hint after it (flowscope's errors say what is wrong, then the fix).
nlohmann::json error_body(const Error& error);

// The routes, by concept (one file each): the JSON API (http_api.cpp), admin routes
// (http_admin.cpp), Scrutinizer's fcgi (scrutinizer_api.cpp).
std::vector<Route> api_routes(Server& server);
std::vector<Route> sessions_routes(Server& server);  // http_sessions.cpp
std::vector<Route> admin_routes(Server& server);
std::vector<Route> reports_routes(Server& server);  // http_reports.cpp
std::vector<Route> scrutinizer_routes(Server& server);
// The OpenAPI 3 document of `routes`, field schemas from the registry (openapi.cpp).
nlohmann::json openapi_document(const std::vector<Route>& routes);

class HttpServer {
 public:
  // Binds [http] listen/port (HTTPS when `tls` is set) and starts serving `routes`.
  static Result<std::unique_ptr<HttpServer>> start(Server& server, std::vector<Route> routes,
                                                   std::shared_ptr<const TlsContext> tls);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The certificate for handshakes from now on (SIGHUP); connections open keep theirs.
  void set_tls(std::shared_ptr<const TlsContext> tls);
  void stop();
  std::uint16_t port() const { return port_; }
  bool tls() const { return tls_enabled_; }
  const std::vector<Route>& routes() const { return routes_; }

 private:
  explicit HttpServer(Server& server);
  void dispatch(const Route& route, const httplib::Request& req, httplib::Response& res);

  Server& server_;
  std::vector<Route> routes_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};  // the listener thread left listen_after_bind
  std::uint16_t port_ = 0;
  bool tls_enabled_ = false;
  struct TlsHolder;
  std::shared_ptr<TlsHolder> tls_;       // the certificate handshakes use (cert callback)
  std::unique_ptr<const WebFiles> web_;  // null when the dashboard is not built
};

}  // namespace flowscope::server
