#pragma once
// Transport: the byte stream under the query protocol's frames (docs/protocol.md), either the
// plain TCP socket or TLS (1.2 or later, OpenSSL) over it; the framing is the same on both.
// TlsContext holds a server's certificate and key, or a client's trust anchors and whether it
// verifies the server at all.
//
// A Transport borrows its socket (the owner closes it) and owns its TLS state. A TLS transport
// puts the socket in non-blocking mode and waits with poll(), so that shutdown(fd) from another
// thread still ends a blocked read or write. One thread reads and one writes at a time (as
// protocol.h). A TlsContext is immutable once made and may be shared between threads: each
// connection's SSL holds its own reference to the context.
// Internal to flowscope_server: other modules use its public headers.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"

struct ssl_st;
struct ssl_ctx_st;

namespace flowscope::server {

class TlsContext {
 public:
  // The server side: a PEM certificate chain (the server's certificate first) and its PEM
  // private key. Errors name the file, what is wrong and the fix (a missing file, not PEM, a
  // key that is not the certificate's).
  static Result<std::shared_ptr<const TlsContext>> server(const std::filesystem::path& cert,
                                                          const std::filesystem::path& key);
  // The client side: verifies the server against `ca_file` (PEM, one or more certificates) or,
  // when empty, the system's trusted CAs; `insecure` skips verification altogether.
  static Result<std::shared_ptr<const TlsContext>> client(const std::filesystem::path& ca_file,
                                                          bool insecure);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  bool verifies() const { return verify_; }

 private:
  TlsContext(ssl_ctx_st* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  ssl_ctx_st* ctx_;
  bool verify_;
};

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

class Transport {
 public:
  // Plain TCP on a connected socket.
  explicit Transport(int fd) : fd_(fd) {}
  // TLS handshakes, bounded by `deadline`. The server side answers a ClientHello already
  // waiting on `fd`; the client side checks the server's name `host` (a DNS name or an IP
  // address) against its certificate when the context verifies.
  static Result<Transport> accept_tls(int fd, const TlsContext& ctx, Deadline deadline);
  static Result<Transport> connect_tls(int fd, const TlsContext& ctx, const std::string& host,
                                       Deadline deadline);
  Transport(Transport&& other) noexcept;
  Transport& operator=(Transport&& other) noexcept;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  ~Transport();

  Result<void> write_all(const char* data, std::size_t size);
  // Reads exactly `size` bytes. Errors: closed by the peer (Truncated), the deadline (Io,
  // "timed out ..."), a socket or TLS error (Io).
  Result<void> read_all(char* data, std::size_t size, Deadline deadline);
  // True when bytes (or EOF) are waiting, without blocking.
  bool readable_now();
  // Sends a TLS close_notify (nothing for plain TCP); the socket stays open.
  void close_notify();

  int fd() const { return fd_; }
  bool tls() const { return ssl_ != nullptr; }
  // "TLSv1.3" etc., or "" for plain TCP.
  std::string protocol_version() const;

 private:
  Transport(int fd, ssl_st* ssl) : fd_(fd), ssl_(ssl) {}
  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
};

// The first byte of a TLS connection (a handshake record); a flowscope frame starts with the
// high byte of its length, 0 or 1.
inline constexpr unsigned char kTlsHandshakeByte = 0x16;

}  // namespace flowscope::server
