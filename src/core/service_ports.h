#pragma once
// ServicePorts: the set of (protocol, port) pairs that name a service, which the client/server
// rule (core/client_rule.h, used by the stitcher and the flow meter) asks "is this side talking
// to a known service?" (docs/sessions.md). The default is a small built-in well-known set;
// enrich's ServiceTable builds a full one from the shipped IANA-derived table.
//
// Two fixed bitsets (TCP-like and UDP-like protocols), 16 KiB in all: a lookup is one bit test.
// Immutable after construction; any thread.

#include <bitset>
#include <cstdint>
#include <initializer_list>

namespace flowscope {

class ServicePorts {
 public:
  // An empty set.
  ServicePorts() = default;
  // The built-in well-known ports (ssh, dns, http(s), mail, databases, ...).
  static ServicePorts well_known();

  // TCP, SCTP and DCCP share the stream set; UDP and UDP-Lite the datagram set; other
  // protocols have no ports.
  void add(std::uint8_t proto, std::uint16_t port);
  bool contains(std::uint8_t proto, std::uint16_t port) const {
    const std::bitset<65536>* set = select(proto);
    return set != nullptr && set->test(port);
  }
  std::size_t size() const { return stream_.count() + datagram_.count(); }

 private:
  const std::bitset<65536>* select(std::uint8_t proto) const {
    switch (proto) {
      case 6:
      case 132:
      case 33: return &stream_;  // TCP, SCTP, DCCP
      case 17:
      case 136: return &datagram_;  // UDP, UDP-Lite
      default: return nullptr;
    }
  }
  std::bitset<65536> stream_;
  std::bitset<65536> datagram_;
};

}  // namespace flowscope
