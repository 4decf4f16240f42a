#include "gen/traffic_io.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include <poll.h>

namespace flowscope::gen::traffic_detail {

Error sys_error(std::string_view what) {
  return Error{ErrorCode::Io, fmt::format("{}: {}", what, std::strerror(errno))};
}

socklen_t make_sockaddr(const IpAddress& a, std::uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(a.v4_value());
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, a.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

int family(const IpAddress& a) { return a.is_v4() ? AF_INET : AF_INET6; }

std::uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

void set_timeouts(int fd) {
  timeval tv{kIoTimeoutMs / 1000, (kIoTimeoutMs % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Result<Fd> bound_socket(const IpAddress& a, std::uint16_t port, int type) {
  Fd fd(::socket(family(a), type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return sys_error("socket");
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss;
  const socklen_t len = make_sockaddr(a, port, ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return sys_error(fmt::format("bind to {} port {}", a.to_string(), port));
  }
  return fd;
}

Result<Fd> listen_tcp(const IpAddress& a, std::uint16_t port) {
  auto fd = bound_socket(a, port, SOCK_STREAM);
  if (!fd) return fd;
  if (::listen(fd->get(), 16) != 0) return sys_error("listen");
  return fd;
}

Result<Fd> connect_tcp(const IpAddress& a, std::uint16_t port) {
  Fd fd(::socket(family(a), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return sys_error("socket");
  set_timeouts(fd.get());
  // From the scenario's address too: on loopback the kernel would pick 127.0.0.1 as the source
  // for any 127/8 destination, and the traffic would not be the scenario's alone.
  sockaddr_storage local;
  const socklen_t local_len = make_sockaddr(a, 0, local);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), local_len) != 0) {
    return sys_error(fmt::format("bind to {}", a.to_string()));
  }
  sockaddr_storage ss;
  const socklen_t len = make_sockaddr(a, port, ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return sys_error(fmt::format("connect to {} port {}", a.to_string(), port));
  }
  return fd;
}

// Waits for a connection on `listener` until `stop`; an invalid Fd when stopped.
Fd accept_until(int listener, const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) > 0) {
      Fd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
      if (fd.valid()) {
        set_timeouts(fd.get());
        return fd;
      }
    }
  }
  return Fd();
}

bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Writes `n` bytes of a repeating pattern in large pieces.
bool write_pattern(int fd, std::uint64_t n) {
  static const std::string kChunk = [] {
    std::string s(64 * 1024, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
  }();
  while (n > 0) {
    const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(n, kChunk.size()));
    if (!write_all(fd, kChunk.data(), piece)) return false;
    n -= piece;
  }
  return true;
}

// Reads until the peer closes; returns the bytes read (nullopt on error or timeout).
std::optional<std::uint64_t> drain(int fd) {
  char buf[64 * 1024];
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r == 0) return total;
    if (r < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    total += static_cast<std::uint64_t>(r);
  }
}

}  // namespace flowscope::gen::traffic_detail
