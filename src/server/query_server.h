#pragma once
// Internal to flowscope_server: other modules use its public headers.
// QueryServer: the TCP listener of the query protocol (port 9640, docs/protocol.md). Each
// connection gets a thread: Hello (version check), Login (password or session key, through
// AuthService), then Requests dispatched by `kind` to the handlers registered before start().
// A handler streams Header and Rows frames through a ResultStream and returns the Done frame's
// extra fields; it checks cancelled() between chunks, which reads a waiting Cancel frame.
//
// With a TlsContext set (set_tls), a connection whose first byte opens a TLS handshake is
// wrapped in TLS before Hello; with `required`, a plain connection gets an Error frame
// "tls_required" after its Hello and is closed. Without one, TLS connections are closed.
//
// Connections from addresses outside the allow-list are closed at accept. Limits (QueryLimits,
// [query] in docs/serve.md "Connection limits"), so that clients that never log in cannot lock
// the users out:
// - at most `per_address` connections from one address, refused with Error `busy`;
// - at most `max_connections` in all: a newcomer to a full server evicts the oldest connection
//   still waiting for its Login frame (Error `busy`), else it is refused;
// - TLS, Hello and Login must arrive within `handshake_timeout` of the connect (Error `timeout`);
// - non-admin sessions take at most max_connections - admin_reserved; a non-admin login beyond
//   is refused (Error `busy`), so that admins can still log in when users fill the server.
// Every refusal is counted by reason (Rejection). Exceptions thrown by a handler become an Error
// frame (the connection boundary of docs/conventions.md "Errors").
//
// Threads: handle() before start(); stop() from the control thread; handlers run on the
// connection threads, several at a time.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/auth.h"
#include "server/metrics.h"
#include "server/protocol.h"

namespace flowscope::server {

class ResultStream {
 public:
  ResultStream(Transport& conn, std::uint64_t id) : conn_(conn), id_(id) {}
  Result<void> header(const std::vector<std::string>& columns);
  // `rows`: a JSON array of rows (arrays of values).
  Result<void> rows(nlohmann::json rows);
  // Rendered text (query output formats): Rows {id, text}; `rows` is how many rows it holds.
  Result<void> text(std::string text, std::uint64_t rows);
  // True once the client sent Cancel for this request (or went away).
  bool cancelled();
  // True when the client sent something that was not a whole frame while the request ran: the
  // framing is lost, so the connection ends after this request.
  bool lost() const { return lost_; }
  std::uint64_t rows_sent() const { return rows_sent_; }
  std::uint64_t id() const { return id_; }

 private:
  Transport& conn_;
  std::uint64_t id_;
  std::uint64_t rows_sent_ = 0;
  bool cancelled_ = false;
  bool lost_ = false;
};

struct RequestContext {
  const Principal& principal;
  const nlohmann::json& request;
  ResultStream& out;
};

// Returns the fields to add to the Done frame, or an error for an Error frame.
using RequestHandler = std::function<Result<nlohmann::json>(RequestContext&)>;

// Why a connection was refused or closed before its session; /metrics names them.
enum class Rejection : std::uint8_t {
  AllowList,         // address outside [query] allow
  PerAddress,        // max_connections_per_address reached
  Full,              // max_connections reached, every connection logged in or logging in
  AdminReserved,     // a non-admin login when only the admins' reserved slots are left
  HandshakeTimeout,  // no Login frame within handshake_timeout
  Evicted,           // waiting for its Login when a newcomer found the server full
};
inline constexpr std::size_t kRejectionCount = 6;
std::string_view rejection_name(Rejection r);

struct QueryServerStats {
  std::uint64_t connections = 0;
  std::uint64_t refused = 0;  // at accept: allow-list or connection limits
  std::array<std::uint64_t, kRejectionCount> rejected{};  // by Rejection
  std::uint64_t requests = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t errors = 0;
  std::uint64_t active = 0;
  std::uint64_t tls = 0;         // connections that completed a TLS handshake
  std::uint64_t tls_failed = 0;  // failed handshakes, TLS without a certificate, plain refused
};

class QueryServer {
 public:
  QueryServer(AuthService& auth, LatencyHistogram& latency,
              std::function<std::vector<Cidr>()> allow);
  ~QueryServer();
  QueryServer(const QueryServer&) = delete;
  QueryServer& operator=(const QueryServer&) = delete;

  void handle(std::string kind, RequestHandler handler);
  // TLS for the connections accepted from now on (null: plain only); any thread.
  void set_tls(std::shared_ptr<const TlsContext> tls, bool required);
  // Connection limits from now on; any thread.
  void set_limits(const QueryLimits& limits);
  // Binds and starts accepting. Errors name the address and the fix.
  Result<void> start(const std::string& address, std::uint16_t port);
  void stop();
  std::uint16_t port() const { return port_; }
  QueryServerStats stats() const;

 private:
  enum class Phase : std::uint8_t { Handshake, Verifying, User, Admin };
  struct Connection {
    int fd = -1;
    IpAddress peer;
    std::chrono::steady_clock::time_point deadline;  // of the handshake
    std::thread thread;
    std::atomic<bool> done{false};
    Phase phase = Phase::Handshake;  // guarded by mutex_
    bool evicted = false;            // guarded by mutex_
  };
  void accept_loop();
  // REQUIRES: mutex_ held. Whether `address` may connect now; may evict a connection.
  std::optional<std::pair<Rejection, std::string>> admit(const IpAddress& address);
  void reject(Rejection why);
  void serve(Connection& c);
  void serve_session(Connection& c, Transport& conn);
  // After a failed handshake read (`timed_out`: its wait ran out): tells an evicted or late
  // client why.
  void handshake_failed(Connection& c, Transport& conn, bool timed_out);
  // After a successful login: the role's slot, or an Error frame and false.
  bool take_slot(Connection& c, Transport& conn, const Principal& principal);
  void reap(bool all);

  AuthService& auth_;
  LatencyHistogram& latency_;
  std::function<std::vector<Cidr>()> allow_;
  std::map<std::string, RequestHandler> handlers_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mutex_;
  std::list<Connection> connections_;      // guarded by mutex_
  QueryServerStats stats_;                 // guarded by mutex_
  std::shared_ptr<const TlsContext> tls_;  // guarded by mutex_
  bool tls_required_ = false;              // guarded by mutex_
  QueryLimits limits_;                     // guarded by mutex_
};

}  // namespace flowscope::server
