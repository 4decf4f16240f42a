#pragma once
// Client: the client side of the query protocol (docs/protocol.md), used by `flowscope query
// -srv`, `flowscope stat -srv` and `flowscope user -us`. Connects, says Hello, logs in with a
// password (optionally asking for a session key) or a key, then runs requests whose Header and
// Rows frames go to a callback; a callback returning false cancels the request. With `tls` the
// connection is TLS (server/transport.h), verified against the system's CAs or `tls_ca`.
//
// One thread per Client.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "server/protocol.h"

namespace flowscope::server {

struct ClientOptions {
  std::string server = "localhost";  // HOST[:PORT]
  std::string bind_address;          // source address to bind (tests: 127.0.0.2)
  std::string user;
  std::string password;
  std::string key;  // a session key instead of user and password
  bool want_key = false;
  bool tls = false;
  std::string tls_ca;         // PEM CA file; empty: the system's trusted CAs
  bool tls_insecure = false;  // TLS without verifying the server (tests, first setup)
  std::chrono::milliseconds timeout{30000};  // per frame
};

// Called for each Header and Rows frame; false cancels the request.
using FrameSink = std::function<bool(const Frame&)>;

class Client {
 public:
  static Result<Client> connect(const ClientOptions& options);
  Client(Client&& other) noexcept;
  Client& operator=(Client&&) = delete;
  Client(const Client&) = delete;
  ~Client();

  // From LoginOk.
  const std::string& user() const { return user_; }
  const std::string& role() const { return role_; }
  const std::string& key() const { return key_; }

  // Sends the request (kind and fields; the id is added) and streams its answer; returns the
  // Done frame's body, or the Error frame as an error ("code: message").
  Result<nlohmann::json> request(nlohmann::json request, const FrameSink& sink = {});
  int fd() const { return fd_; }
  Transport& transport() { return conn_; }

 private:
  Client() = default;
  int fd_ = -1;
  Transport conn_{-1};
  std::uint64_t next_id_ = 1;
  std::chrono::milliseconds timeout_{30000};
  std::string user_, role_, key_;
};

}  // namespace flowscope::server
