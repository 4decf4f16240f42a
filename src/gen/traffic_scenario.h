#pragma once
// Traffic scenarios for `flowscope gen traffic` (docs/gen.md "gen traffic"): a TOML file naming
// streams of real traffic to make on loopback (or inside a network namespace the user names) —
// repeating UDP and TCP sends, ICMP echo, DNS/NTP/SNMP-like UDP exchanges, HTTP and FTP
// transfers against servers gen starts itself. The idea of trafMon's trafgen XML, in TOML.
//
// Parsing is pure; errors name the file, the line and what to write instead.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"

namespace flowscope::gen {

enum class StreamKind : std::uint8_t { Udp, Tcp, Icmp, Dns, Ntp, Snmp, Http, Ftp };
std::string_view stream_kind_name(StreamKind k);

// How an FTP stream opens its data connections: PASV/EPSV (the client connects) or PORT/EPRT
// (the server connects back).
enum class FtpMode : std::uint8_t { Pasv, Epsv, Port, Eprt };
std::string_view ftp_mode_name(FtpMode m);

struct StreamSpec {
  StreamKind kind = StreamKind::Udp;
  std::string name;              // for the report; defaults to "<kind><index>"
  std::uint16_t port = 0;        // the server's port; 0 = a free port chosen at run time
  std::uint32_t size = 0;        // bytes: per UDP datagram / TCP send / ICMP payload / transfer
  std::uint32_t reply_size = 0;  // UDP exchanges: the response's payload bytes (0 = no reply)
  double rate = 1;               // events per second (datagrams, sends, pings, requests)
  std::uint64_t count = 1;       // events; the scenario's duration may end a stream earlier
  std::uint32_t sends_per_connection = 1;  // TCP: sends on one connection before it closes
  FtpMode ftp_mode = FtpMode::Pasv;
};

struct Scenario {
  std::string name;
  std::chrono::milliseconds duration{10'000};  // the scenario stops by itself after this
  IpAddress address;  // where servers listen and clients connect; loopback unless netns
  std::string netns;  // a network namespace under /var/run/netns to run inside
  std::vector<StreamSpec> streams;
};

// Parses a scenario; `source` names the file in errors. Refuses non-loopback addresses unless a
// network namespace is named.
Result<Scenario> parse_scenario(std::string_view text, std::string_view source);
Result<Scenario> load_scenario(const std::string& path);

}  // namespace flowscope::gen
