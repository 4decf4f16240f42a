#pragma once
// Which endpoint of a two-way session is the client: the rule of docs/sessions.md, as a pure
// function so that it is tested on crafted cases without a stitcher. It lives in core because
// both the stitcher (session) and the flow meter (capture) decide with it.
//
//   1. TCP, SYN evidence: a side whose cumulative flags carry SYN without ACK opened the
//      connection (a refused or unanswered attempt). When both sides carry SYN, the side whose
//      first packet is earlier sent the SYN (the other one answered SYN-ACK). When only one side
//      of a two-sided session carries SYN, it is the client: a server's SYN-ACK would show.
//   2. ICMP/ICMPv6 echo: the side that sent the request.
//   3. Known service port: the side whose port is a service (ServicePorts) is the server; when
//      both are, the lower port is the server.
//   4. Otherwise the higher port is the client (ephemeral ports sit high).
//   5. Equal ports: the endpoint whose record arrived first is the client.
// Pure function; any thread.

#include <cstdint>
#include <string_view>

#include "core/service_ports.h"

namespace flowscope {

// What the stitcher knows about the traffic one endpoint sent.
struct SideView {
  bool seen = false;
  std::uint16_t port = 0;      // the sending endpoint's own port
  std::uint8_t tcp_flags = 0;  // cumulative
  std::int64_t first_ms = 0;   // 0 = unknown
  bool echo_request = false;   // ICMP/ICMPv6 echo request sent by this endpoint
};

enum class ClientReason : std::uint8_t {
  SynOnly,
  SynFirst,
  SynOneSide,
  EchoRequest,
  ServicePort,
  HigherPort,
  FirstSeen
};
std::string_view client_reason_name(ClientReason r);

struct ClientDecision {
  int client = 0;  // 0 or 1: index of the endpoint that is the client
  ClientReason reason = ClientReason::FirstSeen;
};

// `sides[i]` is what endpoint i sent. `first_seen` is the endpoint whose record came first.
ClientDecision decide_client(std::uint8_t proto, const SideView (&sides)[2],
                             const ServicePorts& services, int first_seen);

}  // namespace flowscope
