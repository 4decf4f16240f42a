#include "core/udp_sender.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

namespace flowscope {
namespace {

constexpr std::size_t kBatch = 64;  // datagrams per sendmmsg call
constexpr int kSendBuffer = 4 << 20;

}  // namespace

Result<UdpSender> UdpSender::open(const std::string& target) {
  std::string host;
  std::string port;
  const std::size_t colon = target.rfind(':');
  if (colon == std::string::npos || colon + 1 == target.size()) {
    return Error{
        ErrorCode::InvalidArgument,
        fmt::format("--to \"{}\": expected HOST:PORT, e.g. 127.0.0.1:2055 or [::1]:4739", target)};
  }
  host = target.substr(0, colon);
  port = target.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Error{
        ErrorCode::InvalidArgument,
        fmt::format("--to \"{}\": {}; give an address and a port", target, gai_strerror(rc))};
  }
  UdpSender sender;
  std::memcpy(&sender.address_, found->ai_addr, found->ai_addrlen);
  sender.address_length_ = found->ai_addrlen;
  sender.fd_ = ::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  freeaddrinfo(found);
  if (sender.fd_ < 0) {
    return Error{ErrorCode::Io,
                 fmt::format("cannot create a UDP socket: {}", std::strerror(errno))};
  }
  // A larger buffer absorbs the bursts of batched sends; the kernel caps it at wmem_max.
  ::setsockopt(sender.fd_, SOL_SOCKET, SO_SNDBUF, &kSendBuffer, sizeof kSendBuffer);
  char text[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&sender.address_), sender.address_length_, text,
                  sizeof text, service, sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    sender.destination_ = sender.address_.ss_family == AF_INET6
                              ? fmt::format("[{}]:{}", text, service)
                              : fmt::format("{}:{}", text, service);
  } else {
    sender.destination_ = target;
  }
  return sender;
}

UdpSender::UdpSender(UdpSender&& other) noexcept
    : fd_(other.fd_),
      address_(other.address_),
      address_length_(other.address_length_),
      destination_(std::move(other.destination_)),
      system_calls_(other.system_calls_) {
  other.fd_ = -1;
}

UdpSender::~UdpSender() {
  if (fd_ >= 0) ::close(fd_);
}

bool UdpSender::is_loopback() const {
  if (address_.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&address_);
    return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&address_);
  return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) != 0;
}

Result<void> UdpSender::send(std::span<const std::span<const std::byte>> datagrams) {
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  std::size_t done = 0;
  while (done < datagrams.size()) {
    const std::size_t n = std::min(kBatch, datagrams.size() - done);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& d = datagrams[done + i];
      iov[i].iov_base = const_cast<std::byte*>(d.data());  // sendmmsg does not write it
      iov[i].iov_len = d.size();
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &address_;
      msgs[i].msg_hdr.msg_namelen = address_length_;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    ++system_calls_;
    const int sent = ::sendmmsg(fd_, msgs.data(), static_cast<unsigned>(n), 0);
    if (sent > 0) {
      done += static_cast<std::size_t>(sent);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == ENOBUFS) {
      // The socket buffer is full: wait until it drains (bounded by the poll timeout).
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    if (errno == ECONNREFUSED) continue;  // a stale ICMP error; the next call sends
    return Error{ErrorCode::Io,
                 fmt::format("sending to {} failed: {}", destination_, std::strerror(errno))};
  }
  return {};
}

}  // namespace flowscope
