#include "server/admin_http.h"

#include <fmt/format.h>
#include <httplib.h>

#include "core/log.h"
#include "server/auth.h"

namespace flowscope::server {

Result<std::unique_ptr<AdminHttp>> AdminHttp::start(const std::string& address, std::uint16_t port,
                                                    AdminCallbacks callbacks) {
  std::unique_ptr<AdminHttp> http(new AdminHttp());
  http->callbacks_ = std::move(callbacks);
  http->server_ = std::make_unique<httplib::Server>();
  httplib::Server& srv = *http->server_;
  AdminCallbacks* cb = &http->callbacks_;
  srv.set_pre_routing_handler([cb](const httplib::Request& req, httplib::Response& res) {
    auto peer = IpAddress::parse(req.remote_addr);
    if (!peer || !allowed(cb->allow(), *peer)) {
      res.status = 403;
      res.set_content("forbidden: address not in [http] allow\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  srv.Get("/metrics", [cb](const httplib::Request&, httplib::Response& res) {
    res.set_content(cb->metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  srv.Get("/healthz", [cb](const httplib::Request&, httplib::Response& res) {
    const bool ok = cb->healthy();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : "unhealthy\n", "text/plain");
  });
  int bound = 0;
  if (port == 0) {
    bound = srv.bind_to_any_port(address);
  } else {
    bound = srv.bind_to_port(address, port) ? port : -1;
  }
  if (bound <= 0) {
    return Error{
        ErrorCode::Io,
        fmt::format("cannot listen on HTTP {}:{}; set [http] port to a free port", address, port)};
  }
  http->port_ = static_cast<std::uint16_t>(bound);
  httplib::Server* s = http->server_.get();
  http->thread_ = std::thread([s] { s->listen_after_bind(); });
  logger("server")->info("admin HTTP (/metrics, /healthz) on {}:{}", address, http->port_);
  return http;
}

void AdminHttp::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

AdminHttp::~AdminHttp() { stop(); }

}  // namespace flowscope::server
