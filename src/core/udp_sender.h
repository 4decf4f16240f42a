#pragma once
// Sends datagrams to one UDP destination in batches with sendmmsg(2), so that high rates cost
// one system call per batch rather than per datagram. The socket is not connected: an ICMP port
// unreachable from a collector that is not (yet) listening must not fail later sends.
// One sender per thread.

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"

namespace flowscope {

class UdpSender {
 public:
  // "HOST:PORT", "[IPV6]:PORT"; HOST may be a name (resolved once, numeric port).
  static Result<UdpSender> open(const std::string& target);
  UdpSender(UdpSender&& other) noexcept;
  UdpSender& operator=(UdpSender&&) = delete;
  UdpSender(const UdpSender&) = delete;
  ~UdpSender();

  // Sends every datagram, retrying when the socket buffer is full; returns an error only when
  // the kernel refuses one for good (e.g. larger than the path allows).
  Result<void> send(std::span<const std::span<const std::byte>> datagrams);

  bool is_loopback() const;
  // The destination as numbers, e.g. "127.0.0.1:2055".
  const std::string& destination() const { return destination_; }
  std::uint64_t system_calls() const { return system_calls_; }

 private:
  UdpSender() = default;

  int fd_ = -1;
  sockaddr_storage address_{};
  socklen_t address_length_ = 0;
  std::string destination_;
  std::uint64_t system_calls_ = 0;
};

}  // namespace flowscope
