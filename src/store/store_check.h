#pragma once
// `flowscope store check` and `flowscope store repair` (docs/storage.md "Check and repair"):
// what the CHECKPOINT references against what is on disk, and rebuilding the checkpoint from
// the segments' own footers (WAL number, rows, time range, columns) so that every sealed row is
// queryable again. A store never deletes data it cannot account for: repair only moves files
// (orphans back into place, stray files aside into orphans/) and rewrites CHECKPOINT.
//
// check_store reads only (no lock; run it beside a writer and it may see a flush half done).
// repair_store takes the store's LOCK and refuses while a writer (flowscope serve, import)
// holds it. Errors name the directory and the fix.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/checkpoint.h"

namespace flowscope::store {

struct StoreCheckReport {
  bool checkpoint_present = false;
  Checkpoint checkpoint;                // empty when missing or damaged
  std::uint64_t segments = 0;           // referenced by the checkpoint and readable
  std::uint64_t raw_rows = 0;           // rows of those at the raw level
  std::uint64_t pending_segments = 0;   // a flush cut short: open removes them, the WAL replays
  std::uint64_t orphaned_segments = 0;  // under orphans/, readable: repair restores them
  std::uint64_t wal_files = 0;
  // Inconsistencies, one line each: "path: what; fix". Empty: the store is consistent.
  std::vector<std::string> problems;
  // Not problems: what open will tidy, and what is kept aside in orphans/ for a person to see.
  std::vector<std::string> notes;
  bool consistent() const { return problems.empty(); }
};

// Reads every segment in full (footer and chunk checksums), so it takes as long as a full scan.
Result<StoreCheckReport> check_store(const std::filesystem::path& dir);

struct RepairReport {
  std::optional<Checkpoint> before;  // nullopt when CHECKPOINT was missing or damaged
  Checkpoint after;
  std::uint64_t restored = 0;        // segments moved back from orphans/
  std::uint64_t set_aside = 0;       // stray files moved to orphans/
  std::vector<std::string> actions;  // one line per file moved or kept, and the checkpoint
};

Result<RepairReport> repair_store(const std::filesystem::path& dir);

}  // namespace flowscope::store
