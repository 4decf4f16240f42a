#include "enrich/reverse_dns.h"

#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/select.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include <ares.h>
#include <netdb.h>
#include <unistd.h>

namespace flowscope::enrich {

namespace {
TimeMs wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}
}  // namespace

struct ReverseDns::State {
  ReverseDnsConfig config;
  IpInfoTable& table;
  ares_channel channel = nullptr;
  int wake_fd = -1;

  mutable std::mutex mutex;
  mutable std::condition_variable idle_cv;
  std::deque<IpAddress> queue;  // GUARDED_BY(mutex)
  std::size_t in_flight = 0;    // GUARDED_BY(mutex)
  bool stop = false;            // GUARDED_BY(mutex)
  ReverseDnsStats stats;        // GUARDED_BY(mutex)
  std::thread thread;

  State(ReverseDnsConfig c, IpInfoTable& t) : config(std::move(c)), table(t) {}
  ~State() {
    if (channel != nullptr) ares_destroy(channel);
    if (wake_fd >= 0) close(wake_fd);
    ares_library_cleanup();
  }

  void wake() const {
    const std::uint64_t one = 1;
    // A full eventfd counter still wakes the reader, so a failed write loses nothing.
    [[maybe_unused]] auto n = write(wake_fd, &one, sizeof one);
  }

  struct Query {
    State* state;
    IpAddress address;
  };

  static void on_answer(void* arg, int status, int timeouts, hostent* host) {
    std::unique_ptr<Query> q(static_cast<Query*>(arg));
    State& s = *q->state;
    IpInfo info;
    info.updated = wall_now();
    if (status == ARES_SUCCESS && host != nullptr && host->h_name != nullptr) {
      info.state = NameState::Resolved;
      info.name = host->h_name;
    } else if ((status == ARES_ENOTFOUND || status == ARES_ENODATA) && timeouts == 0) {
      // gethostbyaddr reports every failed DNS lookup as ENOTFOUND once its lookup methods
      // are exhausted; only `timeouts` tells a silent server from an NXDOMAIN answer.
      info.state = NameState::NotFound;
    } else {
      info.state = NameState::Failed;
    }
    // ARES_EDESTRUCTION: the channel is going away; leave the entry for a later refresh.
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
      info.state = NameState::New;
    }
    s.table.set(q->address, info);
    std::lock_guard lock(s.mutex);
    switch (info.state) {
      case NameState::Resolved: ++s.stats.resolved; break;
      case NameState::NotFound: ++s.stats.not_found; break;
      default:
        ++(status == ARES_ETIMEOUT || timeouts > 0 ? s.stats.timeouts : s.stats.failed);
        break;
    }
    --s.in_flight;
    s.idle_cv.notify_all();
  }

  void send(const IpAddress& address) {
    auto* q = new Query{this, address};
    if (address.is_v4()) {
      in_addr a{};
      a.s_addr = htonl(address.v4_value());
      ares_gethostbyaddr(channel, &a, sizeof a, AF_INET, &State::on_answer, q);
    } else {
      in6_addr a{};
      std::memcpy(a.s6_addr, address.bytes().data(), 16);
      ares_gethostbyaddr(channel, &a, sizeof a, AF_INET6, &State::on_answer, q);
    }
  }

  void run() {
    double tokens = config.burst;
    auto last_refill = std::chrono::steady_clock::now();
    while (true) {
      std::vector<IpAddress> to_send;
      bool waiting_for_token = false;
      {
        std::lock_guard lock(mutex);
        if (stop) break;
        const auto now = std::chrono::steady_clock::now();
        const double elapsed = std::chrono::duration<double>(now - last_refill).count();
        last_refill = now;
        tokens = std::min(config.burst, tokens + elapsed * config.queries_per_second);
        while (!queue.empty() && in_flight < config.max_in_flight && tokens >= 1.0) {
          to_send.push_back(queue.front());
          queue.pop_front();
          tokens -= 1.0;
          ++in_flight;
          ++stats.sent;
        }
        if (!queue.empty() && tokens < 1.0 && in_flight < config.max_in_flight) {
          waiting_for_token = true;
          ++stats.rate_limited;
        }
      }
      for (const IpAddress& a : to_send) send(a);

      fd_set readers, writers;
      FD_ZERO(&readers);
      FD_ZERO(&writers);
      int nfds = ares_fds(channel, &readers, &writers);
      FD_SET(wake_fd, &readers);
      nfds = std::max(nfds, wake_fd + 1);
      // Wake for c-ares' next timeout, the next token, or a request (wake_fd), whichever is
      // first; never longer than a second so that a stop is seen promptly.
      timeval max_wait{1, 0};
      if (waiting_for_token) {
        const double seconds = (1.0 - tokens) / config.queries_per_second;
        const auto micros = static_cast<long>(std::min(seconds, 1.0) * 1e6) + 1;
        max_wait = {micros / 1000000, micros % 1000000};
      }
      timeval tv{};
      timeval* wait = ares_timeout(channel, &max_wait, &tv);
      select(nfds, &readers, &writers, nullptr, wait);
      if (FD_ISSET(wake_fd, &readers)) {
        std::uint64_t count;
        [[maybe_unused]] auto n = read(wake_fd, &count, sizeof count);
      }
      ares_process(channel, &readers, &writers);
    }
  }
};

Result<std::unique_ptr<ReverseDns>> ReverseDns::start(ReverseDnsConfig config, IpInfoTable& table) {
  if (config.queries_per_second <= 0 || config.burst < 1) {
    return Error{ErrorCode::InvalidArgument,
                 "reverse DNS: queries_per_second must be > 0 and burst >= 1"};
  }
  if (int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
    return Error{ErrorCode::Io, std::string("reverse DNS: c-ares: ") + ares_strerror(rc)};
  }
  auto state = std::make_unique<State>(std::move(config), table);
  ares_options opts{};
  opts.timeout = static_cast<int>(state->config.timeout.count());
  opts.tries = state->config.tries;
  char lookups[] = "b";  // DNS only: /etc/hosts names are not what PTR records say
  opts.lookups = lookups;
  const int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  if (int rc = ares_init_options(&state->channel, &opts, mask); rc != ARES_SUCCESS) {
    state->channel = nullptr;
    return Error{ErrorCode::Io, std::string("reverse DNS: c-ares: ") + ares_strerror(rc)};
  }
  if (!state->config.servers.empty()) {
    std::string csv;
    for (const std::string& s : state->config.servers) csv += (csv.empty() ? "" : ",") + s;
    if (int rc = ares_set_servers_ports_csv(state->channel, csv.c_str()); rc != ARES_SUCCESS) {
      return Error{ErrorCode::InvalidArgument, "reverse DNS: servers \"" + csv +
                                                   "\": " + ares_strerror(rc) +
                                                   "; use host:port, e.g. 127.0.0.1:53"};
    }
  }
  state->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (state->wake_fd < 0) return Error{ErrorCode::Io, "reverse DNS: eventfd failed"};
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<ReverseDns>(new ReverseDns(std::move(state)));
}

ReverseDns::ReverseDns(std::unique_ptr<State> state) : state_(std::move(state)) {}

ReverseDns::~ReverseDns() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
  }
  state_->wake();
  state_->thread.join();
  // ares_destroy (in ~State) calls the callbacks of abandoned queries with ARES_EDESTRUCTION.
}

bool ReverseDns::request(const IpAddress& address) {
  State& s = *state_;
  const bool claimed =
      s.table.claim_for_query(address, wall_now(), s.config.positive_ttl, s.config.negative_ttl);
  bool wake = false;
  {
    std::lock_guard lock(s.mutex);
    ++s.stats.requests;
    if (!claimed) {
      ++s.stats.cached;
      return true;
    }
    if (s.queue.size() >= s.config.max_queued) {
      ++s.stats.dropped_full;
      s.table.mark_new(address);
      return false;
    }
    wake = s.queue.empty();
    s.queue.push_back(address);
  }
  if (wake) s.wake();
  return true;
}

std::size_t ReverseDns::refresh(bool all) {
  std::size_t n = 0;
  for (const IpAddress& a : state_->table.refresh_candidates(all)) {
    state_->table.mark_new(a);  // so that claim_for_query takes it regardless of its TTL
    n += request(a) ? 1 : 0;
  }
  return n;
}

ReverseDnsStats ReverseDns::stats() const {
  std::lock_guard lock(state_->mutex);
  ReverseDnsStats out = state_->stats;
  out.queued = state_->queue.size();
  out.in_flight = state_->in_flight;
  return out;
}

bool ReverseDns::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->idle_cv.wait_for(
      lock, timeout, [this] { return state_->queue.empty() && state_->in_flight == 0; });
}

}  // namespace flowscope::enrich
