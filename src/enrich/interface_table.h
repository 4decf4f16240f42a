#pragma once
// InterfaceTable: names, descriptions and speeds of exporters' interfaces, keyed by (exporter
// address, ifIndex). Fed from IPFIX/NetFlow v9 options data (interfaceName IE 82,
// interfaceDescription IE 83 under an interface scope; decode::TemplateEngine hands them out)
// and, where configured, from SNMP polling; read by the Enricher to fill INIFNAME/OUTIFNAME.
//
// Readers take an immutable snapshot per batch (one atomic load, lock-free lookups); writers
// (rare: options data every few minutes, SNMP polls) copy, change and publish under a mutex,
// and only when something changed. Special ifIndex 0 ("no interface": traffic of the exporter
// itself, or unknown) is never looked up.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "core/ip_address.h"
#include "core/time.h"
#include "enrich/reloadable.h"

namespace flowscope::enrich {

enum class InterfaceSource : std::uint8_t { OptionsData, Snmp, Config };

struct InterfaceInfo {
  std::string name;             // ifName / IE 82
  std::string description;      // ifDescr or ifAlias / IE 83
  std::uint64_t speed_bps = 0;  // ifHighSpeed * 1e6 or ifSpeed (SNMP, config); 0 = unknown
  InterfaceSource source = InterfaceSource::OptionsData;
  TimeMs updated{};
  // The label sessions carry: the name, else the description.
  const std::string& label() const { return name.empty() ? description : name; }
  friend bool operator==(const InterfaceInfo&, const InterfaceInfo&) = default;
};

struct InterfaceUpdate {
  IpAddress exporter;
  std::uint32_t if_index = 0;
  InterfaceInfo info;
};

class InterfaceMap {
 public:
  const InterfaceInfo* find(const IpAddress& exporter, std::uint32_t if_index) const;
  std::size_t size() const { return map_.size(); }
  // Calls f(exporter, if_index, info) for every interface, in no particular order.
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [key, info] : map_) f(key.exporter, key.if_index, info);
  }

 private:
  friend class InterfaceTable;
  struct Key {
    IpAddress exporter;
    std::uint32_t if_index = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return IpAddressHash{}(k.exporter) ^ (std::size_t{k.if_index} * 0x9E3779B97F4A7C15ull);
    }
  };
  std::unordered_map<Key, InterfaceInfo, KeyHash> map_;
};

class InterfaceTable {
 public:
  explicit InterfaceTable(std::size_t max_entries = 1u << 18) : max_entries_(max_entries) {}

  // Applies updates; returns how many changed the table. A name learned from SNMP or the
  // configuration is not overwritten by options data (the operator asked for it); an update
  // without a speed keeps the known speed. ifIndex 0 is ignored. Past max_entries new
  // interfaces are refused and counted.
  std::size_t update(std::span<const InterfaceUpdate> updates);

  std::shared_ptr<const InterfaceMap> snapshot() const { return current_.snapshot(); }
  std::uint64_t refused() const;

 private:
  mutable std::mutex write_mutex_;
  Reloadable<InterfaceMap> current_{std::make_shared<const InterfaceMap>()};
  std::size_t max_entries_;
  std::uint64_t refused_ = 0;  // GUARDED_BY(write_mutex_)
};

}  // namespace flowscope::enrich
