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

#include "gen/traffic_io.h"

namespace flowscope::gen {
namespace {

using namespace traffic_detail;

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
    const socklen_t len = make_sockaddr(addr, 0, any);  // from the scenario's address
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
