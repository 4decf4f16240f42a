#pragma once
// Internal to flowscope_clickhouse: other modules use its public headers.
// The bounded on-disk queue of one shard's insert blocks that could not be delivered (the
// shard refused them, timed out or was unreachable), replayed in order when it answers again
// (docs/scale-out.md "Failures"). One file per block, named by its first row sequence so that
// the directory order is the replay order; each file is written atomically (tmp, fsync,
// rename) and checksummed, so a crash leaves whole blocks or none.
//
// File format (little-endian): u64 magic "FSCHSPIL" | u32 version (1) | u32 shard |
// u64 first_seq | u64 last_seq | u64 rows | i64 day | u64 payload bytes | u64 XXH3 of the
// payload | payload (RowBinary rows in schema.h insert_columns() order).
//
// One thread (the backend's writer) uses a queue.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace flowscope::clickhouse {

struct SpillBlock {
  std::uint32_t shard = 0;
  // The block's rows have _seq in [first_seq, last_seq] and start_time in day `day` (days
  // since 1970, the partition); no other row of the shard does, so (shard, day, range) is the
  // block's id when replay checks whether an insert with an unknown outcome went in.
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t rows = 0;
  std::int64_t day = 0;
  std::string data;
};

std::string serialize_spill_block(const SpillBlock& block);
// Checks magic, version, lengths and checksum; never reads past `file`.
Result<SpillBlock> parse_spill_block(std::string_view file);

class SpillQueue {
 public:
  // Opens (creating) `dir` and indexes the blocks already there. Fails on an unreadable or
  // corrupt block file, naming it.
  static Result<SpillQueue> open(std::filesystem::path dir, std::uint64_t max_bytes);

  // Fails when the block would take the queue past max_bytes: the caller must not acknowledge
  // its rows.
  Result<void> push(const SpillBlock& block);
  bool empty() const { return entries_.empty(); }
  std::size_t blocks() const { return entries_.size(); }
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t rows() const;
  // The highest row sequence queued + 1, 0 when empty.
  std::uint64_t end_seq() const;
  Result<SpillBlock> front() const;
  Result<void> pop();
  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct Entry {
    std::filesystem::path path;
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = 0;
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
  };
  std::filesystem::path dir_;
  std::uint64_t max_bytes_ = 0;
  std::uint64_t bytes_ = 0;
  std::deque<Entry> entries_;
};

}  // namespace flowscope::clickhouse
