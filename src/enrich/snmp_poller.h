#pragma once
// SnmpPoller: interface names, descriptions and speeds of exporters by SNMP (IF-MIB ifName,
// ifAlias/ifDescr, ifHighSpeed/ifSpeed; RFC 2863), polled with net-snmp on a thread of its own
// and written into the InterfaceTable, where they win over what options data announces.
// Ingest never waits for SNMP: it reads the table's snapshots.
//
// Thread-safe: poll_once() and stats() from any thread; start() runs the periodic thread until
// the poller is destroyed.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"
#include "enrich/interface_table.h"

namespace flowscope::enrich {

struct SnmpTarget {
  IpAddress exporter;  // the flow exporter whose ifIndex values the answers name
  std::string agent;   // "host", "host:port" or "[v6]:port"; default the exporter, port 161
  std::string community = "public";  // SNMPv2c
};

struct SnmpConfig {
  std::vector<SnmpTarget> targets;
  std::chrono::seconds interval{3600};
  std::chrono::milliseconds timeout{2000};
  int retries = 1;
  int bulk_repetitions = 32;  // GETBULK max-repetitions
};

struct SnmpStats {
  std::uint64_t polls = 0;       // target polls started
  std::uint64_t failures = 0;    // polls that got no (or an error) answer
  std::uint64_t interfaces = 0;  // interfaces learned by the last successful polls
  std::string last_error;        // names the target
};

class SnmpPoller {
 public:
  // Checks the targets (agent addresses parse); does not contact them.
  static Result<std::unique_ptr<SnmpPoller>> create(SnmpConfig config, InterfaceTable& table);
  ~SnmpPoller();  // stops the thread
  SnmpPoller(const SnmpPoller&) = delete;
  SnmpPoller& operator=(const SnmpPoller&) = delete;

  // Polls every target now, on the calling thread; returns interfaces updated.
  std::size_t poll_once();
  // Polls every `interval` on a thread of its own (the first poll at once).
  void start();
  SnmpStats stats() const;

  struct State;

 private:
  explicit SnmpPoller(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace flowscope::enrich
