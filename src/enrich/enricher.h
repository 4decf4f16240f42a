#pragma once
// Enricher: fills a SessionBatch's enrichment columns in place: country, city, AS number and
// organisation of both sides (GeoDb; an AS the exporter gave from BGP is kept), IP group ids
// (IpGroups), the service name of the server port (ServiceTable), and asks ReverseDns for
// names of addresses it has not asked about recently.
//
// Never blocks: every lookup is in memory; reverse DNS only queues (its answers go to the
// IpInfoTable, not to the batch). Sources are Reloadable: a batch uses the snapshots taken at
// its start, so a reload takes effect from the next batch.
//
// Not thread-safe (it keeps a small cache of recently requested addresses): one Enricher per
// worker; the sources it reads are shared.

#include <array>
#include <cstdint>

#include "core/record_batch.h"
#include "enrich/geoip.h"
#include "enrich/interface_table.h"
#include "enrich/ip_groups.h"
#include "enrich/reloadable.h"
#include "enrich/reverse_dns.h"
#include "enrich/service_table.h"

namespace flowscope::enrich {

struct EnrichSources {
  const Reloadable<GeoDb>* geo = nullptr;
  const Reloadable<IpGroups>* groups = nullptr;
  const Reloadable<ServiceTable>* services = nullptr;
  ReverseDns* reverse_dns = nullptr;           // may be null: no names
  const InterfaceTable* interfaces = nullptr;  // may be null: no interface names
};

struct EnrichStats {
  std::uint64_t sessions = 0;
  std::uint64_t geo_hits = 0;        // sides with a country
  std::uint64_t as_hits = 0;         // sides with an AS from GeoIP
  std::uint64_t group_hits = 0;      // sides in a group
  std::uint64_t service_hits = 0;    // sessions with a service name
  std::uint64_t dns_requests = 0;    // addresses handed to ReverseDns
  std::uint64_t interface_hits = 0;  // input or output interfaces named
};

class Enricher {
 public:
  explicit Enricher(EnrichSources sources) : sources_(sources) {}

  void enrich(SessionBatch& batch);
  const EnrichStats& stats() const { return stats_; }

 private:
  void want_name(const IpAddress& address);

  EnrichSources sources_;
  EnrichStats stats_;
  // Direct-mapped memory of addresses already handed to ReverseDns, so that the hot path pays
  // a hash and a compare, not the resolver's lock, for addresses it sees again.
  static constexpr std::size_t kRecentSlots = 4096;
  std::array<IpAddress, kRecentSlots> recent_{};
};

}  // namespace flowscope::enrich
