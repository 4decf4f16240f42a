#pragma once
// IpInfoTable: what flowscope knows about individual addresses beyond GeoIP: for now the
// reverse DNS name and its state, filled in asynchronously by ReverseDns and read by queries
// and `flowscope ipinfo` (trafMon's IP-info table). Bounded: past max_entries the table refuses
// new addresses and counts them.
//
// Thread-safe: a mutex guards the map (cold path: one visit per new address, not per session).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"
#include "core/time.h"

namespace flowscope::enrich {

enum class NameState : std::uint8_t {
  New,       // seen, not resolved yet, not queued (queue was full, or added for a refresh)
  Queued,    // waiting for the rate limit, or in flight
  Resolved,  // `name` holds the PTR name
  NotFound,  // NXDOMAIN or no PTR record (negative cache)
  Failed,    // timeout or server failure (negative cache, shorter)
};

std::string_view name_state_name(NameState s);

struct IpInfo {
  std::string name;
  NameState state = NameState::New;
  TimeMs updated{};
};

class IpInfoTable {
 public:
  explicit IpInfoTable(std::size_t max_entries = 1u << 20) : max_entries_(max_entries) {}

  std::optional<IpInfo> get(const IpAddress& address) const;
  // Decides under one lock whether `address` needs a query at `now`: true (and marks it
  // Queued) when unknown, New, or its answer is older than its TTL.
  bool claim_for_query(const IpAddress& address, TimeMs now, DurationMs positive_ttl,
                       DurationMs negative_ttl);
  // Marks New (a query could not be queued).
  void mark_new(const IpAddress& address);
  void set(const IpAddress& address, IpInfo info);
  // Addresses to resolve for a refresh: those in state New, or every one with `all`.
  std::vector<IpAddress> refresh_candidates(bool all) const;

  // Adds `address` in state New when the table does not know it; true when added.
  bool add_new(const IpAddress& address);
  // Every entry, sorted by address (for listing and saving).
  std::vector<std::pair<IpAddress, IpInfo>> entries() const;

  std::size_t size() const;
  std::uint64_t refused() const;

  // The table's file in a data directory (docs/enrich.md "IP-info file"): a header line
  // "# flowscope ipinfo 1" then one line per address: address, state, updated (ms since the
  // epoch), name, separated by tabs. save() writes a temporary file and renames it, so a
  // crash leaves the old file or the new one. load() adds the file's entries (Queued ones come
  // back as New); errors name the file and line.
  Result<void> save(const std::filesystem::path& path) const;
  Result<void> load(const std::filesystem::path& path);

 private:
  bool insert_allowed() const { return map_.size() < max_entries_; }
  mutable std::mutex mutex_;
  std::unordered_map<IpAddress, IpInfo> map_;  // GUARDED_BY(mutex_)
  std::size_t max_entries_;
  std::uint64_t refused_ = 0;  // GUARDED_BY(mutex_)
};

}  // namespace flowscope::enrich
