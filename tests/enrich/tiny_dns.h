#pragma once
// TinyDns: a UDP DNS responder on 127.0.0.1 (port 0) for the reverse DNS tests. It answers PTR
// queries from a table (name, NXDOMAIN) and ignores the rest (a server that never answers, for
// timeouts). hold(true) makes it keep queries unanswered until hold(false), so a test can prove
// that callers returned while queries were outstanding.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <unistd.h>

namespace flowscope::testing {

class TinyDns {
 public:
  TinyDns() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    socklen_t len = sizeof addr;
    ok_ = ok_ && getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TinyDns() {
    stop_ = true;
    thread_.join();
    if (fd_ >= 0) close(fd_);
  }

  bool ok() const { return ok_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  void answer(const std::string& qname, const std::string& ptr) {
    std::lock_guard lock(mutex_);
    answers_[qname] = ptr;
  }
  void nxdomain(const std::string& qname) { answer(qname, ""); }
  void hold(bool on) {
    std::lock_guard lock(mutex_);
    hold_ = on;
  }
  std::size_t queries() const {
    std::lock_guard lock(mutex_);
    return queries_;
  }
  bool wait_queries(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return queries_ >= n; });
  }

 private:
  struct Held {
    std::vector<std::uint8_t> query;
    sockaddr_in from;
  };

  void run() {
    std::vector<Held> held;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      // The poll timeout only bounds how late a stop or a released hold is noticed.
      if (poll(&p, 1, 10) > 0) {
        std::vector<std::uint8_t> buf(1500);
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n =
            recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 12) {
          buf.resize(static_cast<std::size_t>(n));
          held.push_back({std::move(buf), from});
          std::lock_guard lock(mutex_);
          ++queries_;
          cv_.notify_all();
        }
      }
      bool holding;
      {
        std::lock_guard lock(mutex_);
        holding = hold_;
      }
      if (holding) continue;
      for (const Held& h : held) respond(h);
      held.clear();
    }
  }

  void respond(const Held& h) {
    const std::vector<std::uint8_t>& q = h.query;
    // RFC 1035 §4.1: header, then QNAME labels, QTYPE, QCLASS.
    std::size_t i = 12;
    std::string qname;
    while (i < q.size() && q[i] != 0) {
      const std::size_t len = q[i];
      if (i + 1 + len > q.size()) return;
      if (!qname.empty()) qname += '.';
      qname.append(reinterpret_cast<const char*>(&q[i + 1]), len);
      i += 1 + len;
    }
    const std::size_t question_end = i + 5;
    if (question_end > q.size()) return;
    std::string ptr;
    {
      std::lock_guard lock(mutex_);
      auto it = answers_.find(qname);
      if (it == answers_.end()) return;  // silence: the resolver times out
      ptr = it->second;
    }
    std::vector<std::uint8_t> r(q.begin(), q.begin() + static_cast<long>(question_end));
    r[2] = 0x81;                       // QR, RD
    r[3] = ptr.empty() ? 0x83 : 0x80;  // RA; RCODE 3 = NXDOMAIN
    r[6] = 0;
    r[7] = ptr.empty() ? 0 : 1;  // ANCOUNT
    r[8] = r[9] = r[10] = r[11] = 0;
    if (!ptr.empty()) {
      std::vector<std::uint8_t> rdata;
      std::size_t start = 0;
      while (start <= ptr.size()) {
        std::size_t dot = ptr.find('.', start);
        if (dot == std::string::npos) dot = ptr.size();
        rdata.push_back(static_cast<std::uint8_t>(dot - start));
        rdata.insert(rdata.end(), ptr.begin() + static_cast<long>(start),
                     ptr.begin() + static_cast<long>(dot));
        start = dot + 1;
      }
      rdata.push_back(0);
      const std::uint8_t rr[] = {0xc0,
                                 0x0c,
                                 0,
                                 12,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0x0e,
                                 0x10,
                                 static_cast<std::uint8_t>(rdata.size() >> 8),
                                 static_cast<std::uint8_t>(rdata.size())};
      r.insert(r.end(), std::begin(rr), std::end(rr));
      r.insert(r.end(), rdata.begin(), rdata.end());
    }
    sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<const sockaddr*>(&h.from), sizeof h.from);
  }

  int fd_ = -1;
  bool ok_ = false;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::map<std::string, std::string> answers_;  // GUARDED_BY(mutex_)
  bool hold_ = false;                           // GUARDED_BY(mutex_)
  std::size_t queries_ = 0;                     // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace flowscope::testing
