#include "gen/traffic_runner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

namespace flowscope::gen {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPollMs = 50;
constexpr int kIoTimeoutMs = 3000;

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

ExpectedSession session_of(const StreamSpec& spec, std::uint8_t proto, const IpAddress& addr,
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

// ---- UDP: repeating sends and request/response exchanges (DNS, NTP, SNMP shaped) ----

void run_udp(Run& run, const StreamSpec& spec, Fd server) {
  const IpAddress& addr = run.scenario.address;
  const std::uint16_t server_port = local_port(server.get());
  std::atomic<std::uint64_t> replies{0};
  std::thread responder([&] {
    std::string buf(65536, '\0');
    const std::string reply(spec.reply_size, 'r');
    while (!run.servers_stop.load()) {
      pollfd p{server.get(), POLLIN, 0};
      if (::poll(&p, 1, kPollMs) <= 0) continue;
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(server.get(), buf.data(), buf.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0 || spec.reply_size == 0) continue;
      if (::sendto(server.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                   len) == ssize_t(reply.size())) {
        replies.fetch_add(1);
      }
    }
  });

  auto client = bound_socket(addr, 0, SOCK_DGRAM);
  if (!client) {
    run.failure(spec, client.error().message);
  } else {
    set_timeouts(client->get());
    sockaddr_storage to;
    const socklen_t to_len = make_sockaddr(addr, server_port, to);
    ExpectedSession s = session_of(spec, 17, addr, local_port(client->get()), server_port);
    const std::string payload(spec.size, 'q');
    std::string buf(65536, '\0');
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < spec.count && run.wait_turn(spec, start, i); ++i) {
      if (::sendto(client->get(), payload.data(), payload.size(), 0,
                   reinterpret_cast<sockaddr*>(&to), to_len) != ssize_t(payload.size())) {
        run.failure(spec, fmt::format("send failed: {}", std::strerror(errno)));
        continue;
      }
      ++s.client_datagrams;
      s.client_payload += payload.size();
      if (spec.reply_size > 0) {
        pollfd p{client->get(), POLLIN, 0};
        if (::poll(&p, 1, kIoTimeoutMs) > 0 &&
            ::recv(client->get(), buf.data(), buf.size(), 0) > 0) {
          ++s.server_datagrams;
          s.server_payload += spec.reply_size;
        } else {
          run.failure(spec, "no reply within 3 s");
        }
      }
      run.event(spec, i + 1);
    }
    if (s.client_datagrams > 0) run.add_session(std::move(s));
  }
  run.servers_stop.store(true);
  responder.join();
}

// ---- TCP: connections that send `size` bytes `sends_per_connection` times, then close ----

void run_tcp(Run& run, const StreamSpec& spec, Fd listener) {
  const IpAddress& addr = run.scenario.address;
  const std::uint16_t server_port = local_port(listener.get());
  std::thread sink([&] {
    for (;;) {
      Fd conn = accept_until(listener.get(), run.servers_stop);
      if (!conn.valid()) return;
      (void)drain(conn.get());
    }
  });
  const auto start = Clock::now();
  std::optional<Fd> conn;
  std::optional<ExpectedSession> s;
  auto finish = [&] {
    if (!conn) return;
    ::shutdown(conn->get(), SHUT_WR);
    char c;
    while (::recv(conn->get(), &c, 1, 0) > 0) {
    }
    conn.reset();
    run.add_session(std::move(*s));
    s.reset();
  };
  for (std::uint64_t i = 0; i < spec.count && run.wait_turn(spec, start, i); ++i) {
    if (!conn) {
      auto c = connect_tcp(addr, server_port);
      if (!c) {
        run.failure(spec, c.error().message);
        continue;
      }
      s = session_of(spec, 6, addr, local_port(c->get()), server_port);
      conn = std::move(*c);
    }
    if (!write_pattern(conn->get(), spec.size)) {
      run.failure(spec, "send failed");
    } else {
      s->client_payload += spec.size;
    }
    run.event(spec, i + 1);
    if ((i + 1) % spec.sends_per_connection == 0) finish();
  }
  finish();
  // The sink has read every connection to its end when the client's close returns.
  run.servers_stop.store(true);
  sink.join();
}

// ---- ICMP echo through a ping socket (or a raw socket where ping sockets are not allowed) ----

std::uint16_t icmp_checksum(const unsigned char* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (n % 2 != 0) sum += std::uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

void run_icmp(Run& run, const StreamSpec& spec) {
  const IpAddress& addr = run.scenario.address;
  const bool v4 = addr.is_v4();
  const int proto = v4 ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
  bool raw = false;
  Fd fd(::socket(family(addr), SOCK_DGRAM | SOCK_CLOEXEC, proto));
  if (!fd.valid()) {
    fd = Fd(::socket(family(addr), SOCK_RAW | SOCK_CLOEXEC, proto));
    raw = true;
  }
  if (!fd.valid()) {
    run.failure(spec, fmt::format("cannot open an ICMP socket ({}); run as root or allow ping "
                                  "sockets (sysctl net.ipv4.ping_group_range)",
                                  std::strerror(errno)));
    return;
  }
  set_timeouts(fd.get());
  // Ping sockets choose the identifier (the socket's "port"); raw sockets use ours.
  std::uint16_t ident = static_cast<std::uint16_t>(::getpid() & 0xffff);
  if (!raw) {
    sockaddr_storage any;
    const socklen_t len = make_sockaddr(v4 ? IpAddress::v4(0) : IpAddress(), 0, any);
    ::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), len);
    ident = local_port(fd.get());
  }
  sockaddr_storage to;
  const socklen_t to_len = make_sockaddr(addr, 0, to);
  ExpectedSession s = session_of(spec, v4 ? 1 : 58, addr, ident, 0);
  std::vector<unsigned char> packet(8 + spec.size);
  std::vector<unsigned char> buf(65536 + 64);
  const auto start = Clock::now();
  for (std::uint64_t i = 0; i < spec.count && run.wait_turn(spec, start, i); ++i) {
    std::fill(packet.begin(), packet.end(), 0);
    packet[0] = v4 ? ICMP_ECHO : 128;
    packet[4] = static_cast<unsigned char>(ident >> 8);
    packet[5] = static_cast<unsigned char>(ident);
    packet[6] = static_cast<unsigned char>((i + 1) >> 8);
    packet[7] = static_cast<unsigned char>(i + 1);
    for (std::size_t k = 8; k < packet.size(); ++k) packet[k] = static_cast<unsigned char>(k);
    if (v4) {  // ICMPv6 checksums are the kernel's (they cover a pseudo-header)
      const std::uint16_t sum = icmp_checksum(packet.data(), packet.size());
      packet[2] = static_cast<unsigned char>(sum >> 8);
      packet[3] = static_cast<unsigned char>(sum);
    }
    if (::sendto(fd.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 to_len) != ssize_t(packet.size())) {
      run.failure(spec, fmt::format("echo request failed: {}", std::strerror(errno)));
      continue;
    }
    ++s.client_datagrams;
    s.client_payload += spec.size;
    // Wait for our reply (a raw socket also sees our own request on loopback).
    const auto until = Clock::now() + std::chrono::milliseconds(kIoTimeoutMs);
    bool answered = false;
    while (!answered && Clock::now() < until) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, kPollMs) <= 0) continue;
      const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
      if (n <= 0) continue;
      const std::size_t off = (raw && v4) ? std::size_t{(buf[0] & 0x0fu) * 4u} : 0;
      if (std::size_t(n) < off + 8) continue;
      const unsigned type = buf[off];
      answered = type == (v4 ? unsigned{ICMP_ECHOREPLY} : 129u);
    }
    if (answered) {
      ++s.server_datagrams;
      s.server_payload += spec.size;
    } else {
      run.failure(spec, "no echo reply within 3 s");
    }
    run.event(spec, i + 1);
  }
  if (s.client_datagrams > 0) run.add_session(std::move(s));
}

// ---- HTTP: GET requests for a body of `size` bytes, one connection each ----

void run_http(Run& run, const StreamSpec& spec, Fd listener) {
  const IpAddress& addr = run.scenario.address;
  const std::uint16_t server_port = local_port(listener.get());
  std::thread server([&] {
    for (;;) {
      Fd conn = accept_until(listener.get(), run.servers_stop);
      if (!conn.valid()) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t r = ::recv(conn.get(), buf, sizeof buf, 0);
        if (r <= 0) break;
        request.append(buf, static_cast<std::size_t>(r));
      }
      const std::string header = fmt::format(
          "HTTP/1.1 200 OK\r\nServer: flowscope-gen\r\nContent-Type: application/octet-stream\r\n"
          "Content-Length: {}\r\nConnection: close\r\n\r\n",
          spec.size);
      if (write_all(conn.get(), header.data(), header.size())) {
        (void)write_pattern(conn.get(), spec.size);
      }
      ::shutdown(conn.get(), SHUT_WR);
      (void)drain(conn.get());
    }
  });
  const auto start = Clock::now();
  for (std::uint64_t i = 0; i < spec.count && run.wait_turn(spec, start, i); ++i) {
    auto c = connect_tcp(addr, server_port);
    if (!c) {
      run.failure(spec, c.error().message);
      continue;
    }
    ExpectedSession s = session_of(spec, 6, addr, local_port(c->get()), server_port);
    const std::string request = fmt::format(
        "GET /file{}.bin HTTP/1.1\r\nHost: {}\r\nUser-Agent: flowscope-gen\r\nConnection: "
        "close\r\n\r\n",
        i + 1, addr.to_string());
    if (!write_all(c->get(), request.data(), request.size())) {
      run.failure(spec, "request failed");
      continue;
    }
    s.client_payload = request.size();
    auto got = drain(c->get());
    if (!got || *got < spec.size) {
      run.failure(spec, "short response");
    }
    s.server_payload = got.value_or(0);
    c->reset();
    run.add_session(std::move(s));
    run.event(spec, i + 1);
  }
  run.servers_stop.store(true);
  server.join();
}

// ---- FTP: one control connection, `count` RETR transfers of `size` bytes ----

std::string ftp_host_port(const IpAddress& a, std::uint16_t port) {
  const std::uint32_t v = a.v4_value();
  return fmt::format("{},{},{},{},{},{}", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255,
                     port >> 8, port & 255);
}

// The server side: a minimal FTP server (RFC 959 plus RFC 2428's EPSV/EPRT) that serves
// any RETR with `size` bytes.
void ftp_server(Run& run, const StreamSpec& spec, int listener,
                std::vector<ExpectedSession>& data_server_side, std::uint64_t& control_bytes) {
  Fd ctrl = accept_until(listener, run.servers_stop);
  if (!ctrl.valid()) return;
  const IpAddress& addr = run.scenario.address;
  auto reply = [&](const std::string& text) {
    const std::string line = text + "\r\n";
    control_bytes += line.size();
    return write_all(ctrl.get(), line.data(), line.size());
  };
  reply("220 flowscope-gen FTP ready");
  LineReader lines(ctrl.get());
  Fd passive;
  std::optional<std::pair<IpAddress, std::uint16_t>> active;
  while (auto cmd = lines.line()) {
    const std::string verb = cmd->substr(0, cmd->find(' '));
    const std::string arg =
        cmd->find(' ') == std::string::npos ? "" : cmd->substr(cmd->find(' ') + 1);
    if (verb == "USER") {
      reply("331 Password required");
    } else if (verb == "PASS") {
      reply("230 Logged in");
    } else if (verb == "TYPE") {
      reply("200 Type set to I");
    } else if (verb == "PASV" || verb == "EPSV") {
      auto l = listen_tcp(addr, 0);
      if (!l) {
        reply("425 Cannot open data connection");
        continue;
      }
      passive = std::move(*l);
      const std::uint16_t p = local_port(passive.get());
      reply(verb == "PASV" ? fmt::format("227 Entering Passive Mode ({})", ftp_host_port(addr, p))
                           : fmt::format("229 Entering Extended Passive Mode (|||{}|)", p));
    } else if (verb == "PORT" || verb == "EPRT") {
      std::uint16_t port = 0;
      if (verb == "PORT") {
        unsigned h[6]{};
        if (std::sscanf(arg.c_str(), "%u,%u,%u,%u,%u,%u", &h[0], &h[1], &h[2], &h[3], &h[4],
                        &h[5]) == 6) {
          port = static_cast<std::uint16_t>(h[4] * 256 + h[5]);
        }
      } else {  // |1|127.0.0.1|port| or |2|::1|port|
        const std::size_t last = arg.rfind('|', arg.size() - 2);
        if (last != std::string::npos)
          port = static_cast<std::uint16_t>(std::atoi(arg.c_str() + last + 1));
      }
      if (port == 0) {
        reply("501 Bad address");
        continue;
      }
      active = std::make_pair(addr, port);
      reply(fmt::format("200 {} command successful", verb));
    } else if (verb == "RETR") {
      Fd data;
      std::uint16_t server_data_port = 0;
      if (passive.valid()) {
        reply("150 Opening BINARY mode data connection");
        data = accept_until(passive.get(), run.servers_stop);
        server_data_port = local_port(passive.get());
        passive.reset();
      } else if (active) {
        reply("150 Opening BINARY mode data connection");
        auto c = connect_tcp(active->first, active->second);
        if (c) {
          server_data_port = local_port(c->get());
          data = std::move(*c);
        }
        active.reset();
      } else {
        reply("425 Use PASV or PORT first");
        continue;
      }
      if (!data.valid() || !write_pattern(data.get(), spec.size)) {
        reply("426 Transfer aborted");
        continue;
      }
      ::shutdown(data.get(), SHUT_WR);
      (void)drain(data.get());
      data.reset();
      ExpectedSession s;
      s.server_port = server_data_port;
      s.server_payload = spec.size;
      data_server_side.push_back(s);
      reply("226 Transfer complete");
    } else if (verb == "QUIT") {
      reply("221 Goodbye");
      break;
    } else {
      reply("502 Command not implemented");
    }
  }
  ::shutdown(ctrl.get(), SHUT_WR);
  (void)drain(ctrl.get());
}

void run_ftp(Run& run, const StreamSpec& spec, Fd listener) {
  const IpAddress& addr = run.scenario.address;
  const std::uint16_t server_port = local_port(listener.get());
  if (!addr.is_v4() && (spec.ftp_mode == FtpMode::Pasv || spec.ftp_mode == FtpMode::Port)) {
    run.failure(spec, "PASV and PORT carry IPv4 addresses only; use mode = \"epsv\" or \"eprt\"");
    return;
  }
  std::vector<ExpectedSession> data_server_side;
  std::uint64_t server_control_bytes = 0;
  std::thread server(
      [&] { ftp_server(run, spec, listener.get(), data_server_side, server_control_bytes); });

  auto ctrl = connect_tcp(addr, server_port);
  if (!ctrl) {
    run.failure(spec, ctrl.error().message);
    run.servers_stop.store(true);
    server.join();
    return;
  }
  ExpectedSession control = session_of(spec, 6, addr, local_port(ctrl->get()), server_port);
  control.role = "control";
  LineReader lines(ctrl->get());
  auto command = [&](const std::string& text) -> std::optional<std::string> {
    const std::string line = text + "\r\n";
    if (!write_all(ctrl->get(), line.data(), line.size())) return std::nullopt;
    control.client_payload += line.size();
    return lines.line();
  };
  std::vector<ExpectedSession> data_sessions;
  bool ok = lines.line().has_value() && command("USER anonymous") && command("PASS gen@") &&
            command("TYPE I");
  const auto start = Clock::now();
  for (std::uint64_t i = 0; ok && i < spec.count && run.wait_turn(spec, start, i); ++i) {
    ExpectedSession data = session_of(spec, 6, addr, 0, 0);
    data.role = "data";
    Fd data_fd;
    Fd active_listener;
    std::optional<std::string> r;
    if (spec.ftp_mode == FtpMode::Pasv || spec.ftp_mode == FtpMode::Epsv) {
      r = command(spec.ftp_mode == FtpMode::Pasv ? "PASV" : "EPSV");
      std::uint16_t port = 0;
      if (r && r->starts_with("227")) {
        unsigned h[6]{};
        const std::size_t open = r->find('(');
        if (open != std::string::npos &&
            std::sscanf(r->c_str() + open + 1, "%u,%u,%u,%u,%u,%u", &h[0], &h[1], &h[2], &h[3],
                        &h[4], &h[5]) == 6) {
          port = static_cast<std::uint16_t>(h[4] * 256 + h[5]);
        }
      } else if (r && r->starts_with("229")) {
        const std::size_t bars = r->find("|||");
        if (bars != std::string::npos)
          port = static_cast<std::uint16_t>(std::atoi(r->c_str() + bars + 3));
      }
      auto c = port != 0 ? connect_tcp(addr, port) : Result<Fd>(Error{ErrorCode::Io, "no port"});
      if (!c) {
        run.failure(spec, "passive data connection failed");
        continue;
      }
      data.client_port = local_port(c->get());
      data.server_port = port;
      data_fd = std::move(*c);
      r = command(fmt::format("RETR file{}.bin", i + 1));
    } else {
      auto l = listen_tcp(addr, 0);
      if (!l) {
        run.failure(spec, l.error().message);
        continue;
      }
      active_listener = std::move(*l);
      const std::uint16_t p = local_port(active_listener.get());
      data.client_port = p;
      r = command(spec.ftp_mode == FtpMode::Port
                      ? fmt::format("PORT {}", ftp_host_port(addr, p))
                      : fmt::format("EPRT |{}|{}|{}|", addr.is_v4() ? 1 : 2, addr.to_string(), p));
      if (r) r = command(fmt::format("RETR file{}.bin", i + 1));
      if (r && r->starts_with("150"))
        data_fd = accept_until(active_listener.get(), run.servers_stop);
    }
    if (!r || !r->starts_with("150") || !data_fd.valid()) {
      run.failure(spec, "RETR was refused");
      continue;
    }
    auto got = drain(data_fd.get());
    data_fd.reset();
    auto done = lines.line();
    if (!got || *got != spec.size || !done || !done->starts_with("226")) {
      run.failure(spec, "short transfer");
    }
    data_sessions.push_back(data);
    run.event(spec, i + 1);
  }
  if (ok) (void)command("QUIT");
  ctrl->reset();
  run.servers_stop.store(true);
  server.join();

  control.server_payload = server_control_bytes;
  run.add_session(control);
  for (std::size_t k = 0; k < data_sessions.size(); ++k) {
    ExpectedSession& d = data_sessions[k];
    if (k < data_server_side.size()) {
      d.server_payload = data_server_side[k].server_payload;
      // In active mode the server connects: the "client" of the TCP session is the server.
      if (spec.ftp_mode == FtpMode::Port || spec.ftp_mode == FtpMode::Eprt) {
        d.server_port = d.client_port;
        d.client_port = data_server_side[k].server_port;
        d.client_payload = d.server_payload;
        d.server_payload = 0;
      }
    }
    run.add_session(d);
  }
}

Result<void> enter_netns(const std::string& name) {
  const std::string path = "/var/run/netns/" + name;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error{ErrorCode::NotFound,
                 fmt::format("network namespace \"{}\" not found ({}); create it with `ip netns "
                             "add {}`",
                             name, std::strerror(errno), name)};
  }
  if (::setns(fd.get(), CLONE_NEWNET) != 0) {
    return Error{ErrorCode::Io,
                 fmt::format("cannot enter network namespace \"{}\": {}; run as root", name,
                             std::strerror(errno))};
  }
  return ok();
}

}  // namespace

Result<TrafficReport> run_scenario(const Scenario& scenario, const std::atomic<bool>* cancel,
                                   const TrafficProgress& progress) {
  if (!scenario.netns.empty()) {
    if (auto r = enter_netns(scenario.netns); !r) return r.error();
  }
  // Bind every server first, so a port in use fails the scenario before any traffic.
  std::vector<std::unique_ptr<Run>> runs;
  std::vector<Fd> servers;
  const auto deadline = Clock::now() + scenario.duration;
  for (const StreamSpec& spec : scenario.streams) {
    Fd fd;
    switch (spec.kind) {
      case StreamKind::Udp:
      case StreamKind::Dns:
      case StreamKind::Ntp:
      case StreamKind::Snmp: {
        auto s = bound_socket(scenario.address, spec.port, SOCK_DGRAM);
        if (!s)
          return Error{s.error().code, fmt::format("stream {}: {}", spec.name, s.error().message)};
        fd = std::move(*s);
        break;
      }
      case StreamKind::Tcp:
      case StreamKind::Http:
      case StreamKind::Ftp: {
        auto s = listen_tcp(scenario.address, spec.port);
        if (!s)
          return Error{s.error().code, fmt::format("stream {}: {}", spec.name, s.error().message)};
        fd = std::move(*s);
        break;
      }
      case StreamKind::Icmp: break;
    }
    servers.push_back(std::move(fd));
    runs.push_back(std::unique_ptr<Run>(new Run(scenario, cancel, progress, deadline)));
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < scenario.streams.size(); ++i) {
    threads.emplace_back([&, i] {
      Run& run = *runs[i];
      const StreamSpec& spec = scenario.streams[i];
      switch (spec.kind) {
        case StreamKind::Udp:
        case StreamKind::Dns:
        case StreamKind::Ntp:
        case StreamKind::Snmp: run_udp(run, spec, std::move(servers[i])); break;
        case StreamKind::Tcp: run_tcp(run, spec, std::move(servers[i])); break;
        case StreamKind::Icmp: run_icmp(run, spec); break;
        case StreamKind::Http: run_http(run, spec, std::move(servers[i])); break;
        case StreamKind::Ftp: run_ftp(run, spec, std::move(servers[i])); break;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  TrafficReport report;
  for (auto& run : runs) {
    TrafficReport& r = run->report;
    for (ExpectedSession& s : r.sessions) report.sessions.push_back(std::move(s));
    report.events += r.events;
    report.failures += r.failures;
    for (std::string& p : r.problems) report.problems.push_back(std::move(p));
    report.cancelled |= r.cancelled;
    report.timed_out |= r.timed_out;
  }
  return report;
}

std::string report_json_lines(const TrafficReport& report) {
  std::string out;
  for (const ExpectedSession& s : report.sessions) {
    out += fmt::format(
        "{{\"stream\":\"{}\",\"kind\":\"{}\",\"role\":\"{}\",\"PROTO\":{},\"CLNIP\":\"{}\","
        "\"CLNPORT\":{},\"SRVIP\":\"{}\",\"SRVPORT\":{},\"CLNPAYLOAD\":{},\"SRVPAYLOAD\":{},"
        "\"CLNPKTS\":{},\"SRVPKTS\":{}}}\n",
        s.stream, stream_kind_name(s.kind), s.role, s.protocol, s.client.to_string(), s.client_port,
        s.server.to_string(), s.server_port, s.client_payload, s.server_payload, s.client_datagrams,
        s.server_datagrams);
  }
  return out;
}

}  // namespace flowscope::gen
