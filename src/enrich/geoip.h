#pragma once
// GeoDb: country, city, AS number and AS organisation per address, from MaxMind databases
// (GeoLite2/GeoIP2 City or Country, and ASN) read with libmaxminddb.
//
// Why not call MMDB_lookup per session: a lookup walks up to 128 tree nodes and decodes
// map data (~1 us), far too slow for millions of sessions per second. Loading walks each
// database's search tree once, deduplicates the data records, and flattens the networks into a
// core PrefixTable (the same structure as IP groups), so a lookup is a bucket index plus a
// short search and returns small integer ids into string tables.
//
// A GeoDb is immutable once loaded; any thread. Reload = load a new GeoDb and store it in a
// Reloadable<GeoDb> (enrich/reloadable.h); readers keep the old one until their batch ends.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/country_code.h"
#include "core/prefix_table.h"
#include "core/result.h"

namespace flowscope::enrich {

struct GeoPaths {
  std::filesystem::path city;  // GeoLite2-City.mmdb (or a Country database)
  std::filesystem::path asn;   // GeoLite2-ASN.mmdb
};

struct GeoLocation {
  CountryCode country;
  std::uint32_t city = 0;  // string id, 0 = none
};

struct AsInfo {
  std::uint32_t asn = 0;
  std::uint32_t org = 0;  // string id, 0 = none
};

class GeoDb {
 public:
  // Either path may be empty (that part stays unknown). Errors name the file and the fix.
  static Result<std::shared_ptr<const GeoDb>> load(const GeoPaths& paths);

  // nullptr when the address is in no network of the database.
  const GeoLocation* location(const IpAddress& address) const {
    const std::uint32_t v = location_table_.lookup(address);
    return v == PrefixTable::kNoValue ? nullptr : &locations_[v];
  }
  const AsInfo* as_info(const IpAddress& address) const {
    const std::uint32_t v = as_table_.lookup(address);
    return v == PrefixTable::kNoValue ? nullptr : &as_infos_[v];
  }
  std::string_view text(std::uint32_t id) const { return strings_[id]; }

  std::size_t networks() const { return location_table_.prefix_count() + as_table_.prefix_count(); }
  std::size_t memory_bytes() const;

 private:
  friend class GeoDbLoader;
  std::vector<std::string> strings_{""};
  std::vector<GeoLocation> locations_;
  PrefixTable location_table_;
  std::vector<AsInfo> as_infos_;
  PrefixTable as_table_;
};

}  // namespace flowscope::enrich
