#include "server/query_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include "core/log.h"

namespace flowscope::server {
namespace {

constexpr auto kIdleTimeout = std::chrono::minutes(30);

IpAddress address_of(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    return IpAddress::v4(ntohl(reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr.s_addr));
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  return IpAddress::v6_bytes(std::span<const std::byte, 16>(
      reinterpret_cast<const std::byte*>(v6->sin6_addr.s6_addr), 16));
}

// `position`: where in the request's filter a parse error is (a byte offset), so that the
// client can point at it as a local parse error does.
void send_error(Transport& conn, std::optional<std::uint64_t> id, std::string_view code,
                std::string_view message, std::optional<std::size_t> position = std::nullopt) {
  nlohmann::json body = {{"code", code}, {"message", message}};
  if (id) body["id"] = *id;
  if (position) body["position"] = *position;
  (void)write_frame(conn, FrameType::Error, body);
}

void send_error(int fd, std::optional<std::uint64_t> id, std::string_view code,
                std::string_view message) {
  Transport plain(fd);
  send_error(plain, id, code, message);
}

// What is left of `deadline`, at least 0.
std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

// Whether `deadline` has come, give or take the millisecond that poll(2) timeouts are
// truncated to (a wait for the deadline may end up to 1 ms early).
bool past(std::chrono::steady_clock::time_point deadline) {
  return left_until(deadline).count() == 0;
}

// read_frame's and the TLS handshake's timeout (protocol.h: Io, "timed out ...").
bool is_timeout(const Error& e) {
  return e.code == ErrorCode::Io && e.message.find("timed out") != std::string::npos;
}

std::string seconds_text(DurationMs d) {
  return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000)
                               : fmt::format("{}ms", d.count());
}

}  // namespace

std::string_view rejection_name(Rejection r) {
  switch (r) {
    case Rejection::AllowList: return "allow";
    case Rejection::PerAddress: return "per_address";
    case Rejection::Full: return "full";
    case Rejection::AdminReserved: return "admin_reserved";
    case Rejection::HandshakeTimeout: return "handshake_timeout";
    case Rejection::Evicted: return "evicted";
  }
  return "full";
}

Result<void> ResultStream::header(const std::vector<std::string>& columns) {
  return write_frame(conn_, FrameType::Header, {{"id", id_}, {"columns", columns}});
}

Result<void> ResultStream::rows(nlohmann::json rows) {
  rows_sent_ += rows.size();
  return write_frame(conn_, FrameType::Rows, {{"id", id_}, {"rows", std::move(rows)}});
}

Result<void> ResultStream::text(std::string text, std::uint64_t rows) {
  rows_sent_ += rows;
  return write_frame(conn_, FrameType::Rows, {{"id", id_}, {"text", std::move(text)}});
}

bool ResultStream::cancelled() {
  while (!cancelled_ && frame_waiting(conn_)) {
    auto f = read_frame(conn_, std::chrono::milliseconds(1000));
    if (!f || f->type == FrameType::Bye) {
      cancelled_ = true;  // the client went away, or broke the framing
      lost_ = true;
    } else if (f->type == FrameType::Cancel && uint_field(f->body, "id") == id_) {
      cancelled_ = true;
    }
  }
  return cancelled_;
}

QueryServer::QueryServer(AuthService& auth, LatencyHistogram& latency,
                         std::function<std::vector<Cidr>()> allow)
    : auth_(auth), latency_(latency), allow_(std::move(allow)) {}

QueryServer::~QueryServer() { stop(); }

void QueryServer::set_tls(std::shared_ptr<const TlsContext> tls, bool required) {
  std::lock_guard lock(mutex_);
  tls_ = std::move(tls);
  tls_required_ = tls_ != nullptr && required;
}

void QueryServer::set_limits(const QueryLimits& limits) {
  std::lock_guard lock(mutex_);
  limits_ = limits;
}

void QueryServer::handle(std::string kind, RequestHandler handler) {
  handlers_[std::move(kind)] = std::move(handler);
}

Result<void> QueryServer::start(const std::string& address, std::uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("[query] listen \"{}\" is not an IP address", address)};
  }
  listen_fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    const int err = errno;
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
    return Error{ErrorCode::Io,
                 fmt::format("cannot listen on TCP {}:{} for queries: {}; set [query] port to a "
                             "free port",
                             address, port, std::strerror(err))};
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  accept_thread_ = std::thread([this] { accept_loop(); });
  logger("server")->info("query protocol on {}:{}", address, port_);
  return {};
}

void QueryServer::stop() {
  if (stop_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  {
    std::lock_guard lock(mutex_);
    for (Connection& c : connections_) ::shutdown(c.fd, SHUT_RDWR);
  }
  reap(true);
}

void QueryServer::reap(bool all) {
  std::list<Connection> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (all || it->done.load()) {
        auto next = std::next(it);
        finished.splice(finished.end(), connections_, it);
        it = next;
      } else {
        ++it;
      }
    }
  }
  for (Connection& c : finished) {
    if (c.thread.joinable()) c.thread.join();
    ::close(c.fd);
  }
}

void QueryServer::accept_loop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 200);
    reap(false);
    if (ready <= 0) continue;
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    const int fd =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const IpAddress address = address_of(peer);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mutex_);
    if (!allowed(allow_(), address)) {
      ++stats_.refused;
      reject(Rejection::AllowList);
      auth_.audit("address_refused", "", address, "query port allow-list");
      ::close(fd);
      continue;
    }
    if (auto refusal = admit(address)) {
      ++stats_.refused;
      reject(refusal->first);
      send_error(fd, std::nullopt, "busy", refusal->second);
      char drain[4096];  // a Hello already sent: read, so that close() sends FIN, not RST
      (void)::recv(fd, drain, sizeof drain, MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    ++stats_.connections;
    Connection& c = connections_.emplace_back();
    c.fd = fd;
    c.peer = address;
    c.deadline = std::chrono::steady_clock::now() + limits_.handshake_timeout;
    c.thread = std::thread([this, &c] {
      // The boundary of a connection (docs/conventions.md "Errors"): whatever a client sends, an
      // exception ends this connection with an Error frame, never the daemon.
      try {
        serve(c);
      } catch (const std::exception& e) {
        send_error(c.fd, std::nullopt, "internal", e.what());
      }
      c.done.store(true);
    });
  }
}

std::optional<std::pair<Rejection, std::string>> QueryServer::admit(const IpAddress& address) {
  std::size_t live = 0;
  std::size_t from_address = 0;
  Connection* oldest_waiting = nullptr;  // connections_ is in accept order
  for (Connection& c : connections_) {
    if (c.done.load() || c.evicted) continue;
    ++live;
    if (c.peer == address) ++from_address;
    if (oldest_waiting == nullptr && c.phase == Phase::Handshake) oldest_waiting = &c;
  }
  if (from_address >= limits_.per_address) {
    return std::pair{Rejection::PerAddress,
                     fmt::format("too many connections from {}: [query] "
                                 "max_connections_per_address is {}; close some, or raise it",
                                 address, limits_.per_address)};
  }
  if (live < limits_.max_connections) return std::nullopt;
  if (oldest_waiting == nullptr) {
    return std::pair{Rejection::Full,
                     fmt::format("the server has its [query] max_connections ({}) connections, "
                                 "all logged in; try again later",
                                 limits_.max_connections)};
  }
  // Wake its thread (reads end as at EOF) and let it say why; the write side stays open.
  oldest_waiting->evicted = true;
  ::shutdown(oldest_waiting->fd, SHUT_RD);
  reject(Rejection::Evicted);
  return std::nullopt;
}

void QueryServer::reject(Rejection why) { ++stats_.rejected[static_cast<std::size_t>(why)]; }

void QueryServer::handshake_failed(Connection& c, Transport& conn, bool timed_out) {
  bool evicted = false;
  DurationMs timeout{};
  {
    std::lock_guard lock(mutex_);
    evicted = c.evicted;
    timeout = limits_.handshake_timeout;
    if (!evicted && (timed_out || past(c.deadline))) {
      reject(Rejection::HandshakeTimeout);
    } else if (!evicted) {
      return;  // the client closed or sent garbage
    }
  }
  if (evicted) {
    send_error(conn, std::nullopt, "busy",
               "the server was full and this connection had not logged in yet; connect again "
               "and log in at once");
  } else {
    send_error(conn, std::nullopt, "timeout",
               fmt::format("no Login within {} of connecting ([query] handshake_timeout); a "
                           "client sends Hello and Login at once",
                           seconds_text(timeout)));
  }
}

bool QueryServer::take_slot(Connection& c, Transport& conn, const Principal& principal) {
  std::string refusal;
  {
    std::lock_guard lock(mutex_);
    const bool admin = principal.role == Role::Admin;
    if (!admin) {
      std::size_t users = 0;
      for (const Connection& other : connections_) {
        if (&other != &c && !other.done.load() && other.phase == Phase::User) ++users;
      }
      const std::size_t for_users = limits_.max_connections - limits_.admin_reserved;
      if (users >= for_users) {
        reject(Rejection::AdminReserved);
        refusal = fmt::format(
            "busy: the {} connections for non-admin users are taken ([query] max_connections {} "
            "less admin_reserved_connections {}); try again later",
            for_users, limits_.max_connections, limits_.admin_reserved);
      }
    }
    if (refusal.empty()) c.phase = admin ? Phase::Admin : Phase::User;
  }
  if (refusal.empty()) return true;
  send_error(conn, std::nullopt, "busy", refusal);
  return false;
}

void QueryServer::serve(Connection& c) {
  std::shared_ptr<const TlsContext> tls;
  bool required = false;
  {
    std::lock_guard lock(mutex_);
    tls = tls_;
    required = tls_required_;
  }
  const auto deadline = c.deadline;
  Transport conn(c.fd);
  // The first byte tells TLS (a handshake record) from a plain Hello frame (its length's high
  // byte, 0 or 1), so one port serves both.
  pollfd p{c.fd, POLLIN, 0};
  if (const int ready = ::poll(&p, 1, static_cast<int>(left_until(deadline).count())); ready <= 0) {
    handshake_failed(c, conn, ready == 0);
    return;
  }
  unsigned char first = 0;
  if (::recv(c.fd, &first, 1, MSG_PEEK) != 1) {
    handshake_failed(c, conn, false);
    return;
  }
  auto log = logger("server");
  if (first == kTlsHandshakeByte) {
    auto accepted = tls ? Transport::accept_tls(c.fd, *tls, deadline)
                        : Result<Transport>(Error{ErrorCode::InvalidArgument,
                                                  "TLS is not enabled on this server; set [query] "
                                                  "tls_cert and tls_key"});
    if (!accepted) {
      {
        std::lock_guard lock(mutex_);
        ++stats_.tls_failed;
        if (!c.evicted && (past(deadline) || is_timeout(accepted.error()))) {
          reject(Rejection::HandshakeTimeout);
        }
      }
      log->info("query connection from {}: {}", c.peer.to_string(), accepted.error().message);
      if (!tls) {
        char drain[4096];  // read the ClientHello so that close() sends FIN, not RST
        (void)::recv(c.fd, drain, sizeof drain, MSG_DONTWAIT);
      }
      return;
    }
    conn = std::move(*accepted);
    std::lock_guard lock(mutex_);
    ++stats_.tls;
  } else if (required) {
    {
      std::lock_guard lock(mutex_);
      ++stats_.tls_failed;
    }
    (void)read_frame(conn, left_until(deadline));  // the Hello, so that the Error arrives
    send_error(conn, std::nullopt, "tls_required",
               "this server accepts only TLS connections ([query] tls_required); connect with "
               "--tls");
    return;
  }
  try {
    serve_session(c, conn);
  } catch (const std::exception& e) {
    send_error(conn, std::nullopt, "internal", e.what());
  }
  conn.close_notify();
}

void QueryServer::serve_session(Connection& c, Transport& conn) {
  auto hello = read_frame(conn, left_until(c.deadline));
  if (!hello) {
    handshake_failed(c, conn, is_timeout(hello.error()));
    return;
  }
  if (hello->type != FrameType::Hello || text_field(hello->body, "magic") != kProtocolMagic) {
    send_error(conn, std::nullopt, "protocol", "expected a flowscope Hello frame");
    return;
  }
  const auto version = uint_field(hello->body, "version");
  if (version != kProtocolVersion) {
    send_error(conn, std::nullopt, "version",
               fmt::format("protocol version {} is not supported; this server speaks {}", version,
                           kProtocolVersion));
    return;
  }
  if (!write_frame(
          conn, FrameType::HelloOk,
          {{"version", kProtocolVersion}, {"server", "flowscope " FLOWSCOPE_SERVER_VERSION}})) {
    return;
  }
  auto login = read_frame(conn, left_until(c.deadline));
  if (!login) {
    handshake_failed(c, conn, is_timeout(login.error()));
    return;
  }
  if (login->type != FrameType::Login) {
    send_error(conn, std::nullopt, "protocol", "expected a Login frame");
    return;
  }
  {
    // From here the connection cannot be evicted (it is verifying, then logged in); one evicted
    // while its Login arrived is told so.
    std::unique_lock lock(mutex_);
    if (c.evicted) {
      lock.unlock();
      handshake_failed(c, conn, false);
      return;
    }
    c.phase = Phase::Verifying;
  }
  Result<Principal> principal = Error{ErrorCode::InvalidArgument, "bad_credentials"};
  std::string key;
  if (login->body.contains("key")) {
    principal = auth_.resume(text_field(login->body, "key"), c.peer);
  } else {
    auto ok = auth_.login(text_field(login->body, "user"), text_field(login->body, "password"),
                          c.peer, bool_field(login->body, "want_key"));
    if (ok) {
      key = ok->key;
      principal = std::move(ok->principal);
    } else {
      principal = ok.error();
    }
  }
  if (!principal) {
    const std::string& msg = principal.error().message;
    send_error(conn, std::nullopt, msg.substr(0, msg.find(':')), msg);
    return;
  }
  if (!take_slot(c, conn, *principal)) return;
  nlohmann::json ok = {{"user", principal->user}, {"role", role_name(principal->role)}};
  if (!key.empty()) ok["key"] = key;
  if (!write_frame(conn, FrameType::LoginOk, ok)) return;

  for (;;) {
    auto frame = read_frame(conn, kIdleTimeout);
    if (!frame || frame->type == FrameType::Bye) return;
    if (frame->type == FrameType::Cancel) continue;  // for a request already finished
    if (frame->type != FrameType::Request) {
      send_error(conn, std::nullopt, "protocol", "expected a Request frame");
      return;
    }
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t id = uint_field(frame->body, "id");
    const std::string kind = text_field(frame->body, "kind");
    {
      std::lock_guard lock(mutex_);
      ++stats_.requests;
    }
    auto handler = handlers_.find(kind);
    if (handler == handlers_.end()) {
      send_error(conn, id, "unknown_request",
                 fmt::format("request kind \"{}\" is not known to this server", kind));
      continue;
    }
    ResultStream out(conn, id);
    RequestContext ctx{*principal, frame->body, out};
    Result<nlohmann::json> done = nlohmann::json::object();
    try {
      done = handler->second(ctx);
    } catch (const std::exception& e) {
      done = Error{ErrorCode::Io, fmt::format("internal error: {}", e.what())};
    }
    const auto elapsed = std::chrono::steady_clock::now() - started;
    latency_.observe(elapsed);
    if (!done) {
      std::lock_guard lock(mutex_);
      ++stats_.errors;
      const auto& where = done.error().where;
      send_error(conn, id, error_code_name(done.error().code), done.error().message,
                 where ? std::optional<std::size_t>(where->offset) : std::nullopt);
      continue;
    }
    nlohmann::json body = std::move(*done);
    body["id"] = id;
    body["rows"] = out.rows_sent();
    body["cancelled"] = out.cancelled();
    body["elapsed_ms"] =
        std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() / 1000.0;
    if (out.cancelled()) {
      std::lock_guard lock(mutex_);
      ++stats_.cancelled;
    }
    if (!write_frame(conn, FrameType::Done, body) || out.lost()) return;
  }
}

QueryServerStats QueryServer::stats() const {
  std::lock_guard lock(mutex_);
  QueryServerStats s = stats_;
  s.active =
      static_cast<std::uint64_t>(std::count_if(connections_.begin(), connections_.end(),
                                               [](const Connection& c) { return !c.done.load(); }));
  return s;
}

}  // namespace flowscope::server
