#pragma once
// AdminHttp: the admin HTTP port of `flowscope serve` (cpp-httplib): GET /metrics in the
// Prometheus text format, GET /healthz ("ok", 200, while receiving and storing; 503 otherwise).
// Requests from addresses outside the allow-list get 403. One listener thread plus httplib's
// worker pool; the callbacks it is given must be callable from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/cidr.h"
#include "core/result.h"

namespace httplib {
class Server;
}

namespace flowscope::server {

struct AdminCallbacks {
  std::function<std::string()> metrics;
  std::function<bool()> healthy;
  std::function<std::vector<Cidr>()> allow;
};

class AdminHttp {
 public:
  static Result<std::unique_ptr<AdminHttp>> start(const std::string& address, std::uint16_t port,
                                                  AdminCallbacks callbacks);
  ~AdminHttp();
  AdminHttp(const AdminHttp&) = delete;
  AdminHttp& operator=(const AdminHttp&) = delete;
  void stop();
  std::uint16_t port() const { return port_; }

 private:
  AdminHttp() = default;
  std::unique_ptr<httplib::Server> server_;
  AdminCallbacks callbacks_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace flowscope::server
