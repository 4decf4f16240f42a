#pragma once
// The CHECKPOINT file and the names of the files the store owns (docs/storage.md "Directory
// layout"), shared by EmbeddedStore's recovery and by `flowscope store check|repair`
// (store_check.h). CHECKPOINT names the last WAL file whose records are sealed in segments: a
// segment file seg-N.fsg is referenced by the checkpoint when N <= that number. Segments above
// it are either a flush cut short (its WAL file wal/N.wal is still there and replays the rows)
// or data the checkpoint cannot account for, which is moved to orphans/, never deleted.
// Pure functions and file reads: any thread.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/partition.h"

namespace flowscope::store {

inline constexpr std::string_view kCheckpointFile = "CHECKPOINT";
inline constexpr std::string_view kOrphansDir = "orphans";

struct Checkpoint {
  std::uint64_t wal_number = 0;     // WAL files up to this one are sealed in segments
  std::uint64_t last_sequence = 0;  // the last append sequence they hold
};

// A missing file reads as the empty checkpoint (a new store); a damaged one is an error naming
// the file and the fix.
Result<Checkpoint> read_checkpoint(const std::filesystem::path& path);
// Atomic (tmp, fsync, rename).
Result<void> write_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// The WAL number in "seg-000000000012.fsg"; nullopt for other names.
std::optional<std::uint64_t> segment_number(std::string_view file_name);
// "seg-000000000012.fsg"
std::string segment_file_name(std::uint64_t wal_number);
// "wal/000000000012.wal" under `dir`.
std::filesystem::path wal_file_path(const std::filesystem::path& dir, std::uint64_t number);

// Where a segment file sits, from its path relative to the data directory:
// raw/<partition>/seg-N.fsg or rollup/<view>/<level>/<partition>/seg-N.fsg.
struct SegmentLocation {
  Level level = Level::Raw;
  std::string view;  // "" for raw
  std::string partition;
  std::int64_t partition_begin = 0;
  std::uint64_t number = 0;
};
// nullopt when `relative` is not such a path.
std::optional<SegmentLocation> parse_segment_location(const std::filesystem::path& relative);

// Moves `relative` (a path under `dir`) to dir/orphans/<relative>, adding ".1", ".2" ... when an
// earlier orphan has that name, and makes the renames durable. Returns the new path.
Result<std::filesystem::path> move_to_orphans(const std::filesystem::path& dir,
                                              const std::filesystem::path& relative);

}  // namespace flowscope::store
