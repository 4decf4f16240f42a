#include "core/service_ports.h"

namespace flowscope {

void ServicePorts::add(std::uint8_t proto, std::uint16_t port) {
  switch (proto) {
    case 6:
    case 132:
    case 33: stream_.set(port); break;
    case 17:
    case 136: datagram_.set(port); break;
    default: break;
  }
}

ServicePorts ServicePorts::well_known() {
  // Services whose port alone tells the server apart, both in enterprise networks and on the
  // Internet. Deliberately short: the full IANA table (enrich/service_table.h) replaces it.
  static constexpr std::uint16_t kTcp[] = {
      20,   21,   22,   23,   25,   53,   80,   88,   110,   111,  119,  135,
      139,  143,  179,  389,  443,  445,  465,  514,  587,   636,  853,  873,
      990,  993,  995,  1433, 1521, 1723, 2049, 3128, 3306,  3389, 5060, 5061,
      5432, 5900, 6379, 6443, 8080, 8443, 9092, 9200, 11211, 27017};
  static constexpr std::uint16_t kUdp[] = {53,  67,  69,  88,  123,  137,  138,  161,  162,
                                           389, 443, 500, 514, 1194, 1812, 1813, 4500, 5060};
  ServicePorts s;
  for (std::uint16_t p : kTcp) s.add(6, p);
  for (std::uint16_t p : kUdp) s.add(17, p);
  return s;
}

}  // namespace flowscope
