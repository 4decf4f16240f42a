#pragma once
// The settings a data directory keeps for itself in DATADIR/store.json (docs/storage.md
// "Configuration"): its rollup views and the retention of each level, so that every process
// opening the store (collector, import, `flowscope store retention`) applies the same ones.
// Written atomically by `flowscope store config`. Pure functions and file I/O: any thread.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/embedded_store.h"

namespace flowscope::store {

struct StoreConfig {
  std::vector<RollupView> rollups;
  std::array<std::int64_t, 4> keep_ms{};  // per Level; 0 keeps forever
};

// nullopt when the directory has no store.json. Errors name the file and the bad entry.
Result<std::optional<StoreConfig>> load_store_config(const std::filesystem::path& dir);
Result<void> save_store_config(const std::filesystem::path& dir, const StoreConfig& config);

// "by_port=srv_port" or "host_pair=cln_addr,srv_addr,srv_port": a view name ([a-z0-9_]+) and
// stored session fields by their canonical names.
Result<RollupView> parse_rollup_spec(std::string_view spec);

}  // namespace flowscope::store
