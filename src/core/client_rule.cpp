#include "core/client_rule.h"

#include "core/tcp_flags.h"

namespace flowscope {

std::string_view client_reason_name(ClientReason r) {
  switch (r) {
    case ClientReason::SynOnly: return "syn_only";
    case ClientReason::SynFirst: return "syn_first";
    case ClientReason::SynOneSide: return "syn_one_side";
    case ClientReason::EchoRequest: return "echo_request";
    case ClientReason::ServicePort: return "service_port";
    case ClientReason::HigherPort: return "higher_port";
    case ClientReason::FirstSeen: return "first_seen";
  }
  return "?";
}

ClientDecision decide_client(std::uint8_t proto, const SideView (&sides)[2],
                             const ServicePorts& services, int first_seen) {
  using namespace tcp_flags;
  if (proto == 6) {
    bool syn[2], bare_syn[2];
    for (int i = 0; i < 2; ++i) {
      syn[i] = sides[i].seen && (sides[i].tcp_flags & kSyn) != 0;
      bare_syn[i] = syn[i] && (sides[i].tcp_flags & kAck) == 0;
    }
    if (bare_syn[0] != bare_syn[1]) return {bare_syn[0] ? 0 : 1, ClientReason::SynOnly};
    if (syn[0] && syn[1] && sides[0].first_ms != 0 && sides[1].first_ms != 0 &&
        sides[0].first_ms != sides[1].first_ms) {
      return {sides[0].first_ms < sides[1].first_ms ? 0 : 1, ClientReason::SynFirst};
    }
    // One SYN side in a two-sided session. In a one-sided session a SYN|ACK side could be
    // either end (a server's SYN-ACK or a client's SYN then ACKs), so it decides nothing.
    if (sides[0].seen && sides[1].seen && syn[0] != syn[1]) {
      return {syn[0] ? 0 : 1, ClientReason::SynOneSide};
    }
  }
  if (proto == 1 || proto == 58) {
    if (sides[0].echo_request != sides[1].echo_request) {
      return {sides[0].echo_request ? 0 : 1, ClientReason::EchoRequest};
    }
    return {first_seen, ClientReason::FirstSeen};
  }
  const std::uint16_t p0 = sides[0].port;
  const std::uint16_t p1 = sides[1].port;
  const bool svc0 = services.contains(proto, p0);
  const bool svc1 = services.contains(proto, p1);
  if (svc0 != svc1) return {svc0 ? 1 : 0, ClientReason::ServicePort};
  if (svc0 && svc1 && p0 != p1) return {p0 < p1 ? 1 : 0, ClientReason::ServicePort};
  if (p0 != p1) return {p0 > p1 ? 0 : 1, ClientReason::HigherPort};
  return {first_seen, ClientReason::FirstSeen};
}

}  // namespace flowscope
