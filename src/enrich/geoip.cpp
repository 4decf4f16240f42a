#include "enrich/geoip.h"

#include <unordered_map>

#include <maxminddb.h>

namespace flowscope::enrich {
namespace {

struct MmdbFile {
  MMDB_s mmdb{};
  bool open = false;
  ~MmdbFile() {
    if (open) MMDB_close(&mmdb);
  }
};

std::string_view data_text(const MMDB_entry_data_s& d) {
  if (!d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING) return {};
  return std::string_view(d.utf8_string, d.data_size);
}

}  // namespace

// Walks MaxMind search trees into GeoDb's prefix tables (format: MaxMind DB spec 2.0,
// "Search Tree Section"; IPv4 lives at ::/96 of an IPv6 tree and is aliased at ::ffff:0:0/96
// and 2002::/16, which the walk skips so that each network is added once).
class GeoDbLoader {
 public:
  explicit GeoDbLoader(GeoDb& db) : db_(db) {}

  std::uint32_t intern(std::string_view s) {
    if (s.empty()) return 0;
    auto [it, fresh] = ids_.emplace(std::string(s), 0);
    if (fresh) {
      it->second = static_cast<std::uint32_t>(db_.strings_.size());
      db_.strings_.push_back(it->first);
    }
    return it->second;
  }

  Result<void> load_locations(const std::filesystem::path& path) {
    PrefixTableBuilder builder;
    auto r = walk(path, builder, [this](MMDB_entry_s& entry) {
      GeoLocation loc;
      MMDB_entry_data_s d{};
      std::string_view iso;
      if (MMDB_get_value(&entry, &d, "country", "iso_code", static_cast<const char*>(nullptr)) ==
          MMDB_SUCCESS) {
        iso = data_text(d);
      }
      if (iso.empty() && MMDB_get_value(&entry, &d, "registered_country", "iso_code",
                                        static_cast<const char*>(nullptr)) == MMDB_SUCCESS) {
        iso = data_text(d);
      }
      if (auto cc = CountryCode::parse(iso)) loc.country = *cc;
      if (MMDB_get_value(&entry, &d, "city", "names", "en", static_cast<const char*>(nullptr)) ==
          MMDB_SUCCESS) {
        loc.city = intern(data_text(d));
      }
      db_.locations_.push_back(loc);
      return static_cast<std::uint32_t>(db_.locations_.size() - 1);
    });
    if (!r) return r;
    db_.location_table_ = builder.build();
    return ok();
  }

  Result<void> load_as(const std::filesystem::path& path) {
    PrefixTableBuilder builder;
    auto r = walk(path, builder, [this](MMDB_entry_s& entry) {
      AsInfo info;
      MMDB_entry_data_s d{};
      if (MMDB_get_value(&entry, &d, "autonomous_system_number",
                         static_cast<const char*>(nullptr)) == MMDB_SUCCESS &&
          d.has_data && d.type == MMDB_DATA_TYPE_UINT32) {
        info.asn = d.uint32;
      }
      if (MMDB_get_value(&entry, &d, "autonomous_system_organization",
                         static_cast<const char*>(nullptr)) == MMDB_SUCCESS) {
        info.org = intern(data_text(d));
      }
      db_.as_infos_.push_back(info);
      return static_cast<std::uint32_t>(db_.as_infos_.size() - 1);
    });
    if (!r) return r;
    db_.as_table_ = builder.build();
    return ok();
  }

 private:
  template <typename Decode>
  Result<void> walk(const std::filesystem::path& path, PrefixTableBuilder& builder, Decode decode) {
    MmdbFile file;
    const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &file.mmdb);
    if (status != MMDB_SUCCESS) {
      return Error{status == MMDB_FILE_OPEN_ERROR ? ErrorCode::NotFound : ErrorCode::Corruption,
                   path.string() + ": " + MMDB_strerror(status) +
                       "; give the path of a MaxMind .mmdb database"};
    }
    file.open = true;
    const auto corrupt = [&](const char* what) {
      return Error{ErrorCode::Corruption,
                   path.string() + ": " + what + "; download the database again"};
    };
    const unsigned tree_bits = file.mmdb.metadata.ip_version == 6 ? 128 : 32;
    // The IPv4 subtree of an IPv6 tree: 96 left turns from the root.
    std::uint64_t v4_start = 0;
    bool have_v4_start = false;
    if (tree_bits == 128) {
      std::uint64_t node = 0;
      unsigned depth = 0;
      for (; depth < 96; ++depth) {
        MMDB_search_node_s n{};
        if (MMDB_read_node(&file.mmdb, static_cast<std::uint32_t>(node), &n) != MMDB_SUCCESS) {
          return corrupt("unreadable search tree");
        }
        if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) break;
        node = n.left_record;
      }
      have_v4_start = depth == 96;
      v4_start = node;
    }
    std::unordered_map<std::uint32_t, std::uint32_t> value_of_offset;
    struct Item {
      std::uint64_t node;
      unsigned depth;
      Uint128 prefix;
    };
    std::vector<Item> stack{{0, 0, 0}};
    const std::uint64_t node_count = file.mmdb.metadata.node_count;
    while (!stack.empty()) {
      const Item item = stack.back();
      stack.pop_back();
      MMDB_search_node_s n{};
      if (item.node >= node_count ||
          MMDB_read_node(&file.mmdb, static_cast<std::uint32_t>(item.node), &n) != MMDB_SUCCESS) {
        return corrupt("unreadable search tree node");
      }
      for (int bit = 0; bit < 2; ++bit) {
        const std::uint8_t type = bit ? n.right_record_type : n.left_record_type;
        const std::uint64_t record = bit ? n.right_record : n.left_record;
        MMDB_entry_s entry = bit ? n.right_record_entry : n.left_record_entry;
        const unsigned depth = item.depth + 1;
        if (depth > tree_bits) return corrupt("search tree deeper than the address size");
        const Uint128 prefix = item.prefix | (bit ? Uint128{1} << (tree_bits - depth) : Uint128{0});
        if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
          const bool v4_path = depth == 96 && prefix == 0;
          if (have_v4_start && record == v4_start && !v4_path) continue;  // an alias
          stack.push_back({record, depth, prefix});
        } else if (type == MMDB_RECORD_TYPE_DATA) {
          auto [it, fresh] = value_of_offset.emplace(entry.offset, 0);
          if (fresh) it->second = decode(entry);
          add(builder, tree_bits, prefix, depth, it->second);
        } else if (type == MMDB_RECORD_TYPE_INVALID) {
          return corrupt("search tree points outside the file");
        }
      }
    }
    return ok();
  }

  static void add(PrefixTableBuilder& builder, unsigned tree_bits, Uint128 prefix, unsigned depth,
                  std::uint32_t value) {
    if (tree_bits == 32) {
      builder.add(Cidr::make(IpAddress::v4(static_cast<std::uint32_t>(prefix)), depth), value);
      return;
    }
    const IpAddress address = IpAddress::from_u64(static_cast<std::uint64_t>(prefix >> 64),
                                                  static_cast<std::uint64_t>(prefix));
    if ((prefix >> 32) == 0 && depth >= 96) {
      builder.add(Cidr::make(IpAddress::v4(static_cast<std::uint32_t>(prefix)), depth - 96), value);
    } else if (!address.is_v4()) {
      builder.add(Cidr::make(address, depth), value);
    } else if (depth >= 96) {
      builder.add(Cidr::make(address, depth - 96), value);  // ::ffff:0:0/96 outside the alias
    }
  }

  GeoDb& db_;
  std::unordered_map<std::string, std::uint32_t> ids_;
};

Result<std::shared_ptr<const GeoDb>> GeoDb::load(const GeoPaths& paths) {
  auto db = std::make_shared<GeoDb>();
  GeoDbLoader loader(*db);
  if (!paths.city.empty()) {
    if (auto r = loader.load_locations(paths.city); !r) return std::move(r).error();
  }
  if (!paths.asn.empty()) {
    if (auto r = loader.load_as(paths.asn); !r) return std::move(r).error();
  }
  return std::shared_ptr<const GeoDb>(std::move(db));
}

std::size_t GeoDb::memory_bytes() const {
  std::size_t n = location_table_.memory_bytes() + as_table_.memory_bytes() +
                  locations_.size() * sizeof(GeoLocation) + as_infos_.size() * sizeof(AsInfo);
  for (const std::string& s : strings_) n += sizeof(std::string) + s.capacity();
  return n;
}

}  // namespace flowscope::enrich
