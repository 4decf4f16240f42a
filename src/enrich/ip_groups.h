#pragma once
// IpGroups: the user's named groups of addresses ("Campus", "Campus/Physics", "DMZ") with a
// location and an activity, from a TOML configuration file or trafMon's ipInfo.ini style
// (docs/enrich.md gives both formats). Groups nest: an address belongs to the group of its
// longest matching prefix (core PrefixTable), and a group may name a parent for roll-ups.
// Group ids are what sessions carry (cln_group/srv_group) and what filters and permissions
// will refer to; an explicit `id` keeps them stable across edits of the file.
//
// Immutable once built; lookups from any thread. Reload builds a new IpGroups and swaps it in
// (enrich/reloadable.h).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/cidr.h"
#include "core/prefix_table.h"
#include "core/result.h"

namespace flowscope::enrich {

struct IpGroup {
  std::uint32_t id = 0;  // >= 1; 0 means "no group"
  std::string name;
  std::uint32_t parent = 0;  // 0 = top level
  std::string location;
  std::string activity;
  std::vector<Cidr> prefixes;
};

class IpGroups {
 public:
  IpGroups() = default;

  // The TOML form: an array of tables [[group]] with name, optional id, parent (a name),
  // location, activity, and `addresses` (CIDRs, ranges "a-b", single addresses).
  static Result<IpGroups> from_toml(std::string_view text, std::string_view source);
  // trafMon's ipInfo.ini style: one [section] per group (the name), keys parent, location,
  // activity, id, and any number of address keys (net, range, host, address, ip, cidr).
  static Result<IpGroups> from_ini(std::string_view text, std::string_view source);
  // By extension: .toml, else INI.
  static Result<IpGroups> load(const std::filesystem::path& path);

  // The id of the group of the longest prefix containing `address`, 0 when none.
  std::uint32_t lookup(const IpAddress& address) const {
    const std::uint32_t v = table_.lookup(address);
    return v == PrefixTable::kNoValue ? 0 : v;
  }
  const IpGroup* group(std::uint32_t id) const;
  const IpGroup* find(std::string_view name) const;
  // True when `id` is `ancestor` or nested under it through parents (for "GROUP Campus"
  // matching its subgroups later).
  bool is_within(std::uint32_t id, std::uint32_t ancestor) const;
  const std::vector<IpGroup>& groups() const { return groups_; }

  // Checks names, parents and ids, and builds the lookup table. Used by the parsers.
  static Result<IpGroups> build(std::vector<IpGroup> groups, std::vector<std::string> parents,
                                std::string_view source);

 private:
  std::vector<IpGroup> groups_;
  PrefixTable table_;
};

}  // namespace flowscope::enrich
