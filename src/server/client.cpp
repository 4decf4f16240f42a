#include "server/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <netdb.h>
#include <unistd.h>

namespace flowscope::server {
namespace {

Error frame_error(const Frame& f) {
  const std::string code = text_field(f.body, "code", "error");
  const std::string message = text_field(f.body, "message");
  Error e{ErrorCode::InvalidArgument,
          message.rfind(code, 0) == 0 ? message : fmt::format("{}: {}", code, message)};
  if (f.body.contains("position") && f.body["position"].is_number_unsigned()) {
    e.where = SourcePos{f.body["position"].get<std::size_t>(), 0};
  }
  return e;
}

Result<int> connect_to(const std::string& host, std::uint16_t port, const std::string& bind) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    return Error{ErrorCode::NotFound,
                 fmt::format("cannot resolve server \"{}\": {}", host, gai_strerror(rc))};
  }
  std::string last = "no address";
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (!bind.empty()) {
      sockaddr_storage local{};
      socklen_t len = 0;
      auto* v4 = reinterpret_cast<sockaddr_in*>(&local);
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&local);
      if (ai->ai_family == AF_INET && inet_pton(AF_INET, bind.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        len = sizeof *v4;
      } else if (ai->ai_family == AF_INET6 &&
                 inet_pton(AF_INET6, bind.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        len = sizeof *v6;
      }
      if (len == 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&local), len) != 0) {
        last = fmt::format("cannot bind the client to {}", bind);
        ::close(fd);
        continue;
      }
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      ::freeaddrinfo(list);
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    last = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(list);
  return Error{ErrorCode::Io, fmt::format("cannot connect to {}:{}: {}; is 'flowscope serve' "
                                          "running there?",
                                          host, port, last)};
}

}  // namespace

Client::Client(Client&& other) noexcept
    : fd_(other.fd_),
      conn_(std::move(other.conn_)),
      next_id_(other.next_id_),
      timeout_(other.timeout_),
      user_(std::move(other.user_)),
      role_(std::move(other.role_)),
      key_(std::move(other.key_)) {
  other.fd_ = -1;
}

Client::~Client() {
  if (fd_ >= 0) {
    (void)write_frame(conn_, FrameType::Bye, nlohmann::json::object());
    conn_.close_notify();
    ::close(fd_);
  }
}

Result<Client> Client::connect(const ClientOptions& options) {
  auto target = parse_host_port(options.server, kDefaultQueryPort);
  if (!target) return target.error();
  auto fd = connect_to(target->first, target->second, options.bind_address);
  if (!fd) return fd.error();
  Client c;
  c.fd_ = *fd;
  c.conn_ = Transport(c.fd_);
  c.timeout_ = options.timeout;
  if (options.tls) {
    auto ctx = TlsContext::client(options.tls_ca, options.tls_insecure);
    if (!ctx) return ctx.error();
    auto tls = Transport::connect_tls(c.fd_, **ctx, target->first,
                                      std::chrono::steady_clock::now() + c.timeout_);
    if (!tls) return tls.error();
    c.conn_ = std::move(*tls);
  }
  if (auto r = write_frame(
          c.conn_, FrameType::Hello,
          {{"magic", kProtocolMagic}, {"version", kProtocolVersion}, {"client", "flowscope"}});
      !r) {
    return r.error();
  }
  auto hello = read_frame(c.conn_, c.timeout_);
  if (!hello) return hello.error();
  if (hello->type == FrameType::Error) return frame_error(*hello);
  if (hello->type != FrameType::HelloOk) {
    return Error{ErrorCode::Malformed, "the server did not answer Hello; is it flowscope serve?"};
  }
  nlohmann::json login;
  if (!options.key.empty()) {
    login = {{"key", options.key}};
  } else {
    login = {
        {"user", options.user}, {"password", options.password}, {"want_key", options.want_key}};
  }
  if (auto r = write_frame(c.conn_, FrameType::Login, login); !r) return r.error();
  auto ok = read_frame(c.conn_, c.timeout_);
  if (!ok) return ok.error();
  if (ok->type == FrameType::Error) return frame_error(*ok);
  if (ok->type != FrameType::LoginOk) {
    return Error{ErrorCode::Malformed, "the server did not answer the login"};
  }
  c.user_ = text_field(ok->body, "user");
  c.role_ = text_field(ok->body, "role");
  c.key_ = text_field(ok->body, "key");
  return c;
}

Result<nlohmann::json> Client::request(nlohmann::json request, const FrameSink& sink) {
  const std::uint64_t id = next_id_++;
  request["id"] = id;
  if (auto r = write_frame(conn_, FrameType::Request, request); !r) return r.error();
  bool cancelled = false;
  for (;;) {
    auto f = read_frame(conn_, timeout_);
    if (!f) return f.error();
    switch (f->type) {
      case FrameType::Done: return std::move(f->body);
      case FrameType::Error: return frame_error(*f);
      case FrameType::Header:
      case FrameType::Rows:
        if (!cancelled && sink && !sink(*f)) {
          cancelled = true;
          if (auto r = write_frame(conn_, FrameType::Cancel, {{"id", id}}); !r) return r.error();
        }
        break;
      default:
        return Error{ErrorCode::Malformed,
                     fmt::format("unexpected {} frame from the server", frame_type_name(f->type))};
    }
  }
}

}  // namespace flowscope::server
