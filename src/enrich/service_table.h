#pragma once
// ServiceTable: service names per (protocol, port), "tcp 443" -> "https", from the shipped
// data/services.tsv (derived from IANA's registry as Debian's netbase ships it; data/README.md)
// and optionally a user file in the same format that overrides or adds entries.
//
// Layout: one 65536-entry array of name ids per protocol (TCP, UDP, SCTP), so a lookup is one
// load (~400 KiB in all). Immutable once built; any thread. Reload builds a new table.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/service_ports.h"

namespace flowscope::enrich {

class ServiceTable {
 public:
  ServiceTable();

  // Reads `protocol<TAB or spaces>port<TAB or spaces>name` lines ('#' comments); entries
  // replace earlier ones of the same protocol and port. Protocols: tcp, udp, sctp. Errors name
  // the file and line.
  Result<void> add_file(const std::filesystem::path& path);
  // The table shipped with flowscope: next to the installed binary (PREFIX/share/flowscope) or
  // in the source tree of a build directory; empty when neither is there.
  static std::filesystem::path shipped_path();
  Result<void> add_text(std::string_view text, std::string_view source);

  // "" when the port has no name.
  std::string_view name(std::uint8_t proto, std::uint16_t port) const {
    const std::vector<std::uint16_t>* ids = select(proto);
    return ids == nullptr ? std::string_view() : std::string_view(names_[(*ids)[port]]);
  }
  std::size_t size() const { return entries_; }
  // The known ports, for the stitcher's client/server rule.
  ServicePorts service_ports() const;

 private:
  const std::vector<std::uint16_t>* select(std::uint8_t proto) const {
    switch (proto) {
      case 6: return &by_proto_[0];
      case 17: return &by_proto_[1];
      case 132: return &by_proto_[2];
      default: return nullptr;
    }
  }
  std::vector<std::string> names_;  // [0] = ""
  std::array<std::vector<std::uint16_t>, 3> by_proto_;
  std::size_t entries_ = 0;
};

}  // namespace flowscope::enrich
