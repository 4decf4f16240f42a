#include "server/udp_ingest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <unistd.h>

#include "core/log.h"
#include "decode/flow_decoder.h"

namespace flowscope::server {
namespace {

constexpr unsigned kRecvBatch = 64;
// The raw-flow log keeps a row index in 16 bits (server/flow_wal.h).
constexpr std::size_t kMaxBatchRows = 65535;
constexpr std::size_t kMaxDatagram = 65536;
constexpr auto kFlushAfter = std::chrono::milliseconds(100);

Result<sockaddr_storage> socket_address(const std::string& text, std::uint16_t port,
                                        socklen_t& len) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return ss;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return ss;
  }
  return Error{ErrorCode::InvalidArgument, fmt::format("\"{}\" is not an IP address", text)};
}

IpAddress peer_address(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
    return IpAddress::v4(ntohl(v4->sin_addr.s_addr));
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  return IpAddress::v6_bytes(std::span<const std::byte, 16>(
      reinterpret_cast<const std::byte*>(v6->sin6_addr.s6_addr), 16));
}

std::string endpoint_text(const std::string& address, std::uint16_t port) {
  return address.find(':') != std::string::npos ? fmt::format("[{}]:{}", address, port)
                                                : fmt::format("{}:{}", address, port);
}

// Opens one receive socket. `port` 0 lets the kernel choose; the bound port is returned.
Result<int> open_socket(const std::string& address, std::uint16_t& port, std::size_t rcvbuf) {
  socklen_t len = 0;
  auto addr = socket_address(address, port, len);
  if (!addr) return addr.error();
  const int fd = ::socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Error{ErrorCode::Io,
                 fmt::format("{}: socket: {}", endpoint_text(address, port), std::strerror(errno))};
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (addr->ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  const int size = static_cast<int>(rcvbuf);
  // SO_RCVBUFFORCE passes net.core.rmem_max when we may (root, CAP_NET_ADMIN); else the kernel
  // caps SO_RCVBUF at rmem_max, which docs/serve.md says how to raise.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), len) != 0) {
    const int err = errno;
    ::close(fd);
    return Error{ErrorCode::Io,
                 fmt::format("cannot listen on UDP {}: {}; pick another port in [ingest] or stop "
                             "the program holding it",
                             endpoint_text(address, port), std::strerror(err))};
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                          : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return fd;
}

}  // namespace

struct UdpIngest::Worker {
  std::vector<int> fds;
  int epoll_fd = -1;
  std::thread thread;
  std::size_t batch_rows = 0;
  enrich::InterfaceTable* interfaces = nullptr;  // shared; thread-safe

  mutable std::mutex mutex;
  decode::FlowDecoder decoder;                     // guarded by mutex (stats read by stats())
  std::map<IpAddress, std::uint64_t> queue_drops;  // guarded by mutex
  std::vector<SocketStats> sockets;                // guarded by mutex

  ~Worker() {
    for (int fd : fds) ::close(fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
  }

  void run(FlowSink& sink, const std::atomic<bool>& stop);
  // Moves the interface names options data announced into the shared table (rare: exporters
  // send them every few minutes). REQUIRES: mutex held.
  void learn_interfaces() {
    std::vector<decode::InterfaceName> names = decoder.templates().take_interface_names();
    if (names.empty()) return;
    std::vector<enrich::InterfaceUpdate> updates;
    updates.reserve(names.size());
    for (decode::InterfaceName& n : names) {
      enrich::InterfaceInfo info;
      info.name = std::move(n.name);
      info.description = std::move(n.description);
      info.source = enrich::InterfaceSource::OptionsData;
      info.updated = std::chrono::time_point_cast<DurationMs>(std::chrono::system_clock::now());
      updates.push_back({n.exporter, n.if_index, std::move(info)});
    }
    interfaces->update(updates);
  }
  void hand_over(FlowBatch& batch, FlowSink& sink);
  unsigned index = 0;
};

void UdpIngest::Worker::hand_over(FlowBatch& batch, FlowSink& sink) {
  if (batch.empty()) return;
  sink.hand_over(index, batch);
  batch = FlowBatch(batch_rows);
}

void UdpIngest::Worker::run(FlowSink& sink, const std::atomic<bool>& stop) {
  std::vector<std::byte> buffers(kRecvBatch * kMaxDatagram);
  std::vector<mmsghdr> msgs(kRecvBatch);
  std::vector<iovec> iovs(kRecvBatch);
  std::vector<sockaddr_storage> peers(kRecvBatch);
  constexpr std::size_t kControl = CMSG_SPACE(sizeof(std::uint32_t));
  std::vector<std::array<char, kControl>> controls(kRecvBatch);
  FlowBatch batch(batch_rows);
  auto batch_started = std::chrono::steady_clock::now();
  epoll_event events[16];

  while (!stop.load(std::memory_order_relaxed)) {
    const int ready = ::epoll_wait(epoll_fd, events, 16, 100);
    for (int ev = 0; ev < ready; ++ev) {
      const std::size_t socket_idx = events[ev].data.u32;
      const int fd = fds[socket_idx];
      for (int rounds = 0; rounds < 16; ++rounds) {
        for (unsigned i = 0; i < kRecvBatch; ++i) {
          iovs[i] = {buffers.data() + i * kMaxDatagram, kMaxDatagram};
          msgs[i].msg_hdr = {};
          msgs[i].msg_hdr.msg_name = &peers[i];
          msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
          msgs[i].msg_hdr.msg_iov = &iovs[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
          msgs[i].msg_hdr.msg_control = controls[i].data();
          msgs[i].msg_hdr.msg_controllen = kControl;
          msgs[i].msg_len = 0;
        }
        const int n = ::recvmmsg(fd, msgs.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) break;  // EAGAIN: drained
        const TimeMs now =
            std::chrono::time_point_cast<DurationMs>(std::chrono::system_clock::now());
        std::lock_guard lock(mutex);
        SocketStats& sock = sockets[socket_idx];
        for (int i = 0; i < n; ++i) {
          const msghdr& h = msgs[i].msg_hdr;
          for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
               c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
              std::uint32_t drops = 0;
              std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
              sock.kernel_drops = drops;  // cumulative for the socket
            }
          }
          ++sock.datagrams;
          sock.bytes += msgs[i].msg_len;
          decode::Datagram d{
              std::span<const std::byte>(buffers.data() + i * kMaxDatagram, msgs[i].msg_len),
              peer_address(peers[i]), now};
          decoder.decode(d, batch);
        }
        if (interfaces != nullptr) learn_interfaces();
        if (n < static_cast<int>(kRecvBatch)) break;
        if (batch.size() >= batch_rows) break;
      }
      if (batch.size() >= batch_rows) {
        hand_over(batch, sink);
        batch_started = std::chrono::steady_clock::now();
      }
    }
    if (!batch.empty() && std::chrono::steady_clock::now() - batch_started >= kFlushAfter) {
      hand_over(batch, sink);
      batch_started = std::chrono::steady_clock::now();
    } else if (batch.empty()) {
      batch_started = std::chrono::steady_clock::now();
    }
  }
  hand_over(batch, sink);
}

Result<std::unique_ptr<UdpIngest>> UdpIngest::start(const IngestConfig& config, FlowSink& sink,
                                                    enrich::InterfaceTable* interfaces) {
  auto log = logger("server");
  std::unique_ptr<UdpIngest> ingest(new UdpIngest());
  unsigned workers = config.workers;
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned w = 0; w < workers; ++w) {
    auto worker = std::make_unique<Worker>();
    worker->batch_rows = std::min(config.batch_rows, kMaxBatchRows);
    worker->index = w;
    worker->interfaces = interfaces;
    worker->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    ingest->workers_.push_back(std::move(worker));
  }
  const std::uint16_t wanted[3] = {config.netflow_port, config.ipfix_port, config.sflow_port};
  for (int kind = 0; kind < 3; ++kind) {
    // The same configured port twice (e.g. every format on 2055) is one set of sockets.
    bool shared = false;
    for (int prev = 0; prev < kind; ++prev) {
      if (wanted[prev] != 0 && wanted[prev] == wanted[kind]) {
        ingest->ports_[kind] = ingest->ports_[prev];
        shared = true;
      }
    }
    if (shared) continue;
    std::uint16_t port = wanted[kind];
    for (const std::string& address : config.listen) {
      std::vector<int> fds;
      Result<void> failed;
      for (unsigned w = 0; w < workers; ++w) {
        auto fd = open_socket(address, port, config.socket_buffer);
        if (!fd) {
          failed = fd.error();
          break;
        }
        fds.push_back(*fd);
      }
      if (!failed) {
        for (int fd : fds) ::close(fd);
        const bool v6 = address.find(':') != std::string::npos;
        if (v6 && (failed.error().message.find("Address family") != std::string::npos ||
                   failed.error().message.find("Cannot assign") != std::string::npos)) {
          log->warn("no IPv6 on this host: not listening on {}", endpoint_text(address, port));
          continue;
        }
        return failed.error();
      }
      const std::uint32_t index = static_cast<std::uint32_t>(ingest->endpoints_.size());
      ingest->endpoints_.push_back(endpoint_text(address, port));
      for (unsigned w = 0; w < workers; ++w) {
        Worker& worker = *ingest->workers_[w];
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = index;
        ::epoll_ctl(worker.epoll_fd, EPOLL_CTL_ADD, fds[w], &ev);
        worker.fds.push_back(fds[w]);
        worker.sockets.push_back(SocketStats{ingest->endpoints_.back()});
      }
    }
    ingest->ports_[kind] = port;
  }
  for (auto& worker : ingest->workers_) {
    Worker* w = worker.get();
    UdpIngest* self = ingest.get();
    w->thread = std::thread([w, self, &sink] { w->run(sink, self->stop_); });
  }
  log->info("receiving flow export on {} with {} workers", fmt::join(ingest->endpoints_, ", "),
            workers);
  return ingest;
}

void UdpIngest::stop() {
  stop_.store(true);
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

UdpIngest::~UdpIngest() { stop(); }

IngestStats UdpIngest::stats() const {
  IngestStats out;
  out.workers = static_cast<unsigned>(workers_.size());
  out.sockets.resize(endpoints_.size());
  for (std::size_t i = 0; i < endpoints_.size(); ++i) out.sockets[i].endpoint = endpoints_[i];
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mutex);
    for (std::size_t i = 0; i < w->sockets.size() && i < out.sockets.size(); ++i) {
      out.sockets[i].datagrams += w->sockets[i].datagrams;
      out.sockets[i].bytes += w->sockets[i].bytes;
      out.sockets[i].kernel_drops += w->sockets[i].kernel_drops;
    }
    for (const auto& [exporter, st] : w->decoder.stats().exporters()) {
      out.exporters[exporter].decode += st;
    }
    for (const auto& [exporter, n] : w->queue_drops) out.exporters[exporter].queue_drops += n;
    out.templates += w->decoder.templates().template_count();
  }
  for (const SocketStats& s : out.sockets) {
    out.datagrams += s.datagrams;
    out.kernel_drops += s.kernel_drops;
  }
  for (const auto& [exporter, e] : out.exporters) {
    out.records += e.decode.records;
    out.queue_drops += e.queue_drops;
    out.decode_drops += e.decode.dropped;
  }
  return out;
}

}  // namespace flowscope::server
