#pragma once
// What `flowscope store stats|config|check|repair` computes and writes beyond the engine's own
// calls (docs/storage.md): per-level totals of the partition statistics, the JSON of `stats
// --json`, the text of a store's settings, retention specs (LEVEL=DURATION), and the reports
// of check and repair as text. The cli parses options and calls these; they return Result and
// write to the stream they are given. Pure functions over values, or one call into the store:
// any thread, one caller per store.

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/embedded_store.h"
#include "store/store_check.h"
#include "store/store_config.h"

namespace flowscope::store {

// One row per level (and rollup view) after the partitions: segments, rows and bytes summed,
// the time range widened, `partition` holding the number of partitions as text. Ordered by
// level, then view.
std::vector<PartitionStats> level_totals(const std::vector<PartitionStats>& parts);

// One row of the `store stats` table: LEVEL, VIEW ("-" for raw), `partition`, SEGMENTS, ROWS,
// BYTES, BYTES/ROW (one decimal, "-" without rows), FIRST, LAST (ISO 8601 UTC).
std::vector<std::string> stats_table_row(const PartitionStats& p, const std::string& partition);

// `store stats --json`: {"partitions": [...], "wal": {"bytes", "rows"}, "damaged": [...]},
// indented by 2.
std::string stats_json(const EmbeddedStore& store);

// "rollup NAME: field,field" per view, then "keep LEVEL: DURATION|forever" per level.
void write_store_config(const StoreConfig& config, std::ostream& out);

// "raw=7d" -> {Raw, 7d}. Error (Parse) "\"SPEC\" is not LEVEL=DURATION; use e.g. raw=7d, 1m=30d".
Result<std::pair<Level, DurationMs>> parse_keep_spec(std::string_view spec);

// DIR/store.json, or the defaults when it is absent. Error (NotFound) when `dir` is not a
// directory, naming the fix.
Result<StoreConfig> read_store_config(const std::filesystem::path& dir);

// Replaces the views of the same name (adding the others) and the given levels' retention.
void apply_config_changes(StoreConfig& config, std::vector<RollupView> rollups,
                          const std::vector<std::pair<Level, DurationMs>>& keeps);

// True when any level of the open store has a retention (store.json).
bool has_configured_retention(const EmbeddedStore& store);

// The report of `store check`: checkpoint, referenced segments and rows, WAL files, pending
// segments, notes and problems, one per line ("consistent" is the caller's to say).
void write_check_report(const StoreCheckReport& report, std::ostream& out);

// The report of `store repair`: each action, then what was restored and moved to orphans/.
// `dir` as the user gave it.
void write_repair_report(const RepairReport& report, std::string_view dir, std::ostream& out);

}  // namespace flowscope::store
