#pragma once
// Runs a traffic scenario (gen/traffic_scenario.h): starts the servers it needs on the
// scenario's address (UDP responders, a TCP sink, an HTTP server, an FTP server with passive and
// active data connections), runs every stream's client at its rate on its own thread, and stops
// by itself when every stream has made its count or the scenario's duration is over.
//
// The report lists the sessions a probe should see, with the application bytes each side wrote
// and, for UDP and ICMP, the exact datagrams each way: tests compare it with what the probe
// metered (F3). TCP segment counts depend on the kernel, so they are not predicted.
//
// run_scenario() blocks its caller; `cancel` (optional) stops it early, as Ctrl-C does.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"

#include "gen/traffic_scenario.h"

namespace flowscope::gen {

struct ExpectedSession {
  std::string stream;  // the stream's name
  StreamKind kind = StreamKind::Udp;
  std::string role;           // "", or for FTP "control" / "data"
  std::uint8_t protocol = 0;  // 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6
  IpAddress client;
  std::uint16_t client_port = 0;  // ICMP: the echo identifier
  IpAddress server;
  std::uint16_t server_port = 0;
  std::uint64_t client_payload = 0;    // application bytes the client wrote
  std::uint64_t server_payload = 0;    // application bytes the server wrote
  std::uint64_t client_datagrams = 0;  // UDP/ICMP: datagrams sent; TCP: 0 (not predicted)
  std::uint64_t server_datagrams = 0;
};

struct TrafficReport {
  std::vector<ExpectedSession> sessions;
  std::uint64_t events = 0;           // datagrams, sends, pings, requests and transfers done
  std::uint64_t failures = 0;         // events that failed (no reply, refused, short transfer)
  std::vector<std::string> problems;  // one line per failure kind, first occurrence
  bool cancelled = false;
  bool timed_out = false;  // the duration ended a stream before its count
};

// Called from stream threads after each event (for progress); may be empty.
using TrafficProgress =
    std::function<void(const std::string& stream, std::uint64_t done, std::uint64_t total)>;

Result<TrafficReport> run_scenario(const Scenario& scenario,
                                   const std::atomic<bool>* cancel = nullptr,
                                   const TrafficProgress& progress = {});

// The report as JSON lines, one session per line (registry-style names: CLNIP, CLNPORT, ...).
std::string report_json_lines(const TrafficReport& report);

}  // namespace flowscope::gen
