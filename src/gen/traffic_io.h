#pragma once
// Internals of `gen traffic` shared by its translation units (traffic_runner.cpp for UDP, TCP,
// ICMP and HTTP; traffic_ftp.cpp for FTP; traffic_io.cpp for the socket helpers): blocking
// sockets with timeouts on loopback, and the state the stream threads share. Not a public API.
// Internal to flowscope_gen: other modules use its public headers.

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <unistd.h>

#include "core/ip_address.h"
#include "core/result.h"

#include "gen/traffic_runner.h"
#include "gen/traffic_scenario.h"

namespace flowscope::gen::traffic_detail {

using Clock = std::chrono::steady_clock;
inline constexpr int kPollMs = 50;
inline constexpr int kIoTimeoutMs = 3000;

// A file descriptor that closes itself.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd_ = std::exchange(o.fd_, -1);
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// An Io error naming `what` and errno.
Error sys_error(std::string_view what);
socklen_t make_sockaddr(const IpAddress& a, std::uint16_t port, sockaddr_storage& ss);
int family(const IpAddress& a);  // AF_INET or AF_INET6
std::uint16_t local_port(int fd);
void set_timeouts(int fd);  // kIoTimeoutMs on receives and sends
// A socket of `type` bound to a:port (SO_REUSEADDR); port 0 = a free one.
Result<Fd> bound_socket(const IpAddress& a, std::uint16_t port, int type);
Result<Fd> listen_tcp(const IpAddress& a, std::uint16_t port);
// Connects from `a` (port 0) to a:port.
Result<Fd> connect_tcp(const IpAddress& a, std::uint16_t port);
// Waits for a connection on `listener` until `stop`; an invalid Fd when stopped.
Fd accept_until(int listener, const std::atomic<bool>& stop);
bool write_all(int fd, const char* data, std::size_t n);
bool write_pattern(int fd, std::uint64_t n);  // n bytes of a repeating pattern
// Reads until the peer closes; the bytes read, or nullopt on an error or timeout.
std::optional<std::uint64_t> drain(int fd);

// Reads one CRLF-terminated line (the FTP control channel); nullopt on EOF or timeout.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  std::optional<std::string> line() {
    for (;;) {
      const std::size_t eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        std::string l = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        return l;
      }
      char buf[1024];
      const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) return std::nullopt;
      buffer_.append(buf, static_cast<std::size_t>(r));
    }
  }

 private:
  int fd_;
  std::string buffer_;
};

// What the stream threads share: the deadline, the cancel flag, the report under a mutex.
struct Run {
  Run(const Scenario& s, const std::atomic<bool>* c, const TrafficProgress& p, Clock::time_point d)
      : scenario(s), cancel(c), progress(p), deadline(d) {}
  const Scenario& scenario;
  const std::atomic<bool>* cancel;
  const TrafficProgress& progress;
  Clock::time_point deadline;
  std::atomic<bool> servers_stop{false};
  std::mutex mutex;
  TrafficReport report;

  bool over() const { return Clock::now() >= deadline || (cancel != nullptr && cancel->load()); }
  void add_session(ExpectedSession s) {
    std::lock_guard lock(mutex);
    report.sessions.push_back(std::move(s));
  }
  void event(const StreamSpec& spec, std::uint64_t done) {
    {
      std::lock_guard lock(mutex);
      ++report.events;
    }
    if (progress) progress(spec.name, done, spec.count);
  }
  void failure(const StreamSpec& spec, const std::string& what) {
    std::lock_guard lock(mutex);
    ++report.failures;
    const std::string line = fmt::format("{}: {}", spec.name, what);
    if (std::find(report.problems.begin(), report.problems.end(), line) == report.problems.end()) {
      report.problems.push_back(line);
    }
  }
  // Paces event `i` of a stream; false when the scenario is over.
  bool wait_turn(const StreamSpec& spec, Clock::time_point start, std::uint64_t i) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(double(i) / spec.rate));
    while (Clock::now() < due) {
      if (over()) break;
      std::this_thread::sleep_until(std::min(due, Clock::now() + std::chrono::milliseconds(20)));
    }
    if (over()) {
      std::lock_guard lock(mutex);
      if (cancel != nullptr && cancel->load()) {
        report.cancelled = true;
      } else {
        report.timed_out = true;
      }
      return false;
    }
    return true;
  }
};

inline ExpectedSession session_of(const StreamSpec& spec, std::uint8_t proto, const IpAddress& addr,
                                  std::uint16_t client_port, std::uint16_t server_port) {
  ExpectedSession s;
  s.stream = spec.name;
  s.kind = spec.kind;
  s.protocol = proto;
  s.client = addr;
  s.client_port = client_port;
  s.server = addr;
  s.server_port = server_port;
  return s;
}

void run_ftp(Run& run, const StreamSpec& spec, Fd listener);

}  // namespace flowscope::gen::traffic_detail
