#include "server/transport.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

namespace flowscope::server {
namespace {

// OpenSSL's socket BIO writes with write(2), which raises SIGPIPE on a connection the peer
// reset; the daemon and the client must see EPIPE instead. Done once, when TLS is first used.
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
      std::signal(SIGPIPE, SIG_IGN);
    }
  });
}

// The queued OpenSSL errors as one line (clearing the queue), or `fallback`.
std::string ssl_errors(std::string_view fallback = "unknown TLS error") {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : buf;
  }
  return out.empty() ? std::string(fallback) : out;
}

Error timed_out() { return Error{ErrorCode::Io, "timed out waiting for the peer"}; }

// Waits until `fd` is ready for `events` or the deadline passes.
Result<void> wait_for(int fd, short events, Deadline deadline) {
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return timed_out();
      wait_ms = static_cast<int>(left.count());
    }
    pollfd p{fd, events, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Error{ErrorCode::Io, fmt::format("poll: {}", std::strerror(errno))};
    }
    if (ready == 0) return timed_out();
    return {};
  }
}

bool readable(const std::filesystem::path& p) {
  std::ifstream in(p);
  return static_cast<bool>(in);
}

SSL_CTX* new_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // The framing is length-prefixed, so a truncated stream is caught there; a peer that closes
  // without close_notify then reads as a closed connection rather than a TLS error.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

// Why a handshake failed, for the client: a verification failure says which and how to fix it.
std::string handshake_error(SSL* ssl, int rc, const TlsContext& ctx) {
  const long verify = SSL_get_verify_result(ssl);
  if (ctx.verifies() && verify != X509_V_OK) {
    return fmt::format(
        "TLS: the server's certificate did not verify: {}; give the CA that signed it with "
        "--tls-ca FILE (or --tls-insecure to skip the check, which exposes the password)",
        X509_verify_cert_error_string(verify));
  }
  const int err = SSL_get_error(ssl, rc);
  if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
    const std::string detail = ssl_errors(errno != 0 ? std::strerror(errno) : "");
    return fmt::format(
        "TLS handshake failed: the server closed the connection{}{}; is TLS enabled on it "
        "([query] tls_cert)? Without --tls the connection is plain",
        detail.empty() ? "" : ": ", detail);
  }
  return fmt::format("TLS handshake failed: {}", ssl_errors());
}

}  // namespace

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Result<std::shared_ptr<const TlsContext>> TlsContext::server(const std::filesystem::path& cert,
                                                             const std::filesystem::path& key) {
  ERR_clear_error();
  if (!readable(cert)) {
    return Error{ErrorCode::NotFound,
                 fmt::format("[query] tls_cert \"{}\": cannot read the file ({}); give the PEM "
                             "certificate of the server",
                             cert.string(), std::strerror(errno))};
  }
  if (!readable(key)) {
    return Error{ErrorCode::NotFound,
                 fmt::format("[query] tls_key \"{}\": cannot read the file ({}); give the PEM "
                             "private key of tls_cert",
                             key.string(), std::strerror(errno))};
  }
  SSL_CTX* ctx = new_context(TLS_server_method());
  if (ctx == nullptr) return Error{ErrorCode::Io, "TLS: " + ssl_errors()};
  std::shared_ptr<const TlsContext> out(new TlsContext(ctx, false));
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return Error{ErrorCode::Parse,
                 fmt::format("[query] tls_cert \"{}\": not a PEM certificate ({}); give the "
                             "server's certificate (then its intermediates) in PEM, e.g. from "
                             "'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                             "-nodes -keyout key.pem -out cert.pem -subj /CN=HOST'",
                             cert.string(), ssl_errors())};
  }
  // Read apart from the context so that "not a key" and "not this certificate's key" differ.
  // No passphrase callback: an encrypted key fails here instead of prompting on a terminal.
  EVP_PKEY* pkey = nullptr;
  if (FILE* f = std::fopen(key.c_str(), "r"); f != nullptr) {
    pkey = PEM_read_PrivateKey(
        f, nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
    std::fclose(f);
  }
  if (pkey == nullptr) {
    return Error{ErrorCode::Parse,
                 fmt::format("[query] tls_key \"{}\": not a PEM private key ({}); give the "
                             "unencrypted PEM key of tls_cert",
                             key.string(), ssl_errors())};
  }
  const bool matches =
      SSL_CTX_use_PrivateKey(ctx, pkey) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(pkey);
  if (!matches) {
    ERR_clear_error();
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("[query] tls_key \"{}\" is not the private key of the certificate "
                             "in tls_cert \"{}\"; give the key the certificate was made with",
                             key.string(), cert.string())};
  }
  return out;
}

Result<std::shared_ptr<const TlsContext>> TlsContext::client(const std::filesystem::path& ca_file,
                                                             bool insecure) {
  ERR_clear_error();
  SSL_CTX* ctx = new_context(TLS_client_method());
  if (ctx == nullptr) return Error{ErrorCode::Io, "TLS: " + ssl_errors()};
  std::shared_ptr<const TlsContext> out(new TlsContext(ctx, !insecure));
  if (insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return out;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!ca_file.empty()) {
    if (!readable(ca_file)) {
      return Error{ErrorCode::NotFound, fmt::format("--tls-ca \"{}\": cannot read the file ({})",
                                                    ca_file.string(), std::strerror(errno))};
    }
    if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
      return Error{ErrorCode::Parse,
                   fmt::format("--tls-ca \"{}\": not a PEM certificate ({}); give the CA "
                               "certificate(s) in PEM",
                               ca_file.string(), ssl_errors())};
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Error{ErrorCode::Io,
                 fmt::format("TLS: cannot load the system's CA certificates ({}); give one with "
                             "--tls-ca FILE",
                             ssl_errors())};
  }
  return out;
}

Result<Transport> Transport::accept_tls(int fd, const TlsContext& ctx, Deadline deadline) {
  ignore_sigpipe();
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx.native());
  if (ssl == nullptr) return Error{ErrorCode::Io, "TLS: " + ssl_errors()};
  Transport t(fd, ssl);  // frees ssl on every return below
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (SSL_set_fd(ssl, fd) != 1) return Error{ErrorCode::Io, "TLS: " + ssl_errors()};
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_accept(ssl);
    if (rc == 1) return t;
    const int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (auto w = wait_for(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline); !w) {
        return w.error();
      }
      continue;
    }
    return Error{ErrorCode::Io, fmt::format("TLS handshake failed: {}",
                                            ssl_errors("the client closed the connection"))};
  }
}

Result<Transport> Transport::connect_tls(int fd, const TlsContext& ctx, const std::string& host,
                                         Deadline deadline) {
  ignore_sigpipe();
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx.native());
  if (ssl == nullptr) return Error{ErrorCode::Io, "TLS: " + ssl_errors()};
  Transport t(fd, ssl);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (SSL_set_fd(ssl, fd) != 1) return Error{ErrorCode::Io, "TLS: " + ssl_errors()};
  unsigned char ip[16];
  const bool is_ip =
      inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1;
  if (!is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (ctx.verifies()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                         : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (ok != 1) return Error{ErrorCode::InvalidArgument, "TLS: cannot check the name " + host};
  }
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_connect(ssl);
    if (rc == 1) return t;
    const int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (auto w = wait_for(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline); !w) {
        return w.error();
      }
      continue;
    }
    return Error{ErrorCode::Io, handshake_error(ssl, rc, ctx)};
  }
}

Transport::Transport(Transport&& other) noexcept : fd_(other.fd_), ssl_(other.ssl_) {
  other.ssl_ = nullptr;
}

Transport& Transport::operator=(Transport&& other) noexcept {
  if (this != &other) {
    SSL_free(ssl_);
    fd_ = other.fd_;
    ssl_ = other.ssl_;
    other.ssl_ = nullptr;
  }
  return *this;
}

Transport::~Transport() { SSL_free(ssl_); }

Result<void> Transport::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    if (ssl_ == nullptr) {
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error{ErrorCode::Io, fmt::format("send: {}", std::strerror(errno))};
      }
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    ERR_clear_error();
    errno = 0;
    const int n = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
      if (auto w = wait_for(fd_, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, std::nullopt); !w) {
        return w.error();
      }
      continue;
    }
    return Error{ErrorCode::Io,
                 fmt::format("TLS send: {}",
                             ssl_errors(errno != 0 ? std::strerror(errno) : "connection lost"))};
  }
  return {};
}

Result<void> Transport::read_all(char* data, std::size_t size, Deadline deadline) {
  while (size > 0) {
    if (ssl_ == nullptr) {
      if (auto w = wait_for(fd_, POLLIN, deadline); !w) return w.error();
      const ssize_t n = ::recv(fd_, data, size, 0);
      if (n == 0) return Error{ErrorCode::Truncated, "the connection was closed"};
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error{ErrorCode::Io, fmt::format("recv: {}", std::strerror(errno))};
      }
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    ERR_clear_error();
    errno = 0;
    const int n = SSL_read(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (auto w = wait_for(fd_, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline); !w) {
        return w.error();
      }
      continue;
    }
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
      ERR_clear_error();
      return Error{ErrorCode::Truncated, "the connection was closed"};
    }
    return Error{ErrorCode::Io, fmt::format("TLS receive: {}", ssl_errors())};
  }
  return {};
}

bool Transport::readable_now() {
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (ssl_ == nullptr) return true;
  // Bytes on the socket may be a TLS record without application data (a session ticket): only
  // a whole record of data, EOF or an error counts.
  ERR_clear_error();
  char c;
  const int n = SSL_peek(ssl_, &c, 1);
  if (n > 0) return true;
  const int err = SSL_get_error(ssl_, n);
  ERR_clear_error();
  return err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
}

void Transport::close_notify() {
  if (ssl_ == nullptr) return;
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string Transport::protocol_version() const {
  return ssl_ != nullptr ? SSL_get_version(ssl_) : "";
}

}  // namespace flowscope::server
