#pragma once
// ReverseDns: PTR lookups with c-ares on a thread of their own, so that ingest never waits for
// DNS. request() is the only call on the ingest path: it checks the IpInfoTable (cache and
// negative cache), queues the address (bounded; dropped and counted when full) and returns.
// The resolver thread sends queries under a token-bucket rate limit and a bound of queries in
// flight, each with a timeout, and writes answers into the IpInfoTable.
//
// Thread-safe: request(), refresh(), stats() and wait_idle() from any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"
#include "core/time.h"
#include "enrich/ip_info_table.h"

namespace flowscope::enrich {

struct ReverseDnsConfig {
  // "host:port" of the servers to ask; empty = the system's (/etc/resolv.conf).
  std::vector<std::string> servers;
  DurationMs timeout{std::chrono::seconds(2)};
  int tries = 2;
  double queries_per_second = 200;
  double burst = 50;
  std::size_t max_queued = 100000;
  std::size_t max_in_flight = 256;
  DurationMs positive_ttl{std::chrono::hours(24)};
  DurationMs negative_ttl{std::chrono::hours(1)};
};

struct ReverseDnsStats {
  std::uint64_t requests = 0;      // request() calls
  std::uint64_t cached = 0;        // answered by the table (fresh name or negative entry)
  std::uint64_t dropped_full = 0;  // queue full: left as New for a later refresh
  std::uint64_t sent = 0;          // queries handed to c-ares
  std::uint64_t resolved = 0;
  std::uint64_t not_found = 0;  // NXDOMAIN / no data
  std::uint64_t timeouts = 0;
  std::uint64_t failed = 0;        // other errors (server failure, refused, ...)
  std::uint64_t rate_limited = 0;  // times the thread waited for a token
  std::size_t queued = 0;          // now
  std::size_t in_flight = 0;       // now
};

class ReverseDns {
 public:
  // Starts the resolver thread. Errors: a bad server address, c-ares initialisation.
  static Result<std::unique_ptr<ReverseDns>> start(ReverseDnsConfig config, IpInfoTable& table);
  ~ReverseDns();  // stops the thread; queries in flight are abandoned
  ReverseDns(const ReverseDns&) = delete;
  ReverseDns& operator=(const ReverseDns&) = delete;

  // Never waits for DNS. Returns false when the address was dropped (queue full).
  bool request(const IpAddress& address);
  // Queues the table's New addresses, or every address with `all` (flowscope ipinfo refresh).
  std::size_t refresh(bool all);
  ReverseDnsStats stats() const;
  // Waits until nothing is queued or in flight, or `timeout` passes; true when idle.
  bool wait_idle(std::chrono::milliseconds timeout) const;

  struct State;

 private:
  explicit ReverseDns(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace flowscope::enrich
