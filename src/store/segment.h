#pragma once
// Internal to flowscope_store: other modules use its public headers.
// Segments: immutable columnar files of sessions (docs/storage.md "Segment files"). A segment
// holds the rows of one time partition from one flush, cut into blocks of kDefaultBlockRows
// rows; each block stores one chunk per stored session field of the registry, with a min/max
// zone map per chunk. The footer describes columns by registry name and type, so a reader built
// with more or fewer fields still reads what it knows (unknown columns are skipped, missing ones
// read as absent).
//
// Writers write to "<name>.tmp", fsync and rename, so a segment file is either complete or
// absent; a half-written one (a crash, a full disk) is a stray .tmp that recovery removes.
// A Segment is immutable once opened and shared as shared_ptr<const Segment>; every method is
// const and safe from any number of threads. Chunk checksums are verified on each read.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"
#include "store/column_codec.h"

namespace flowscope::store {

struct ChunkRef {
  std::uint64_t offset = 0;
  std::uint32_t size = 0;
  std::uint64_t checksum = 0;
  Encoding encoding = Encoding::Plain;
  ZoneMap zone;
  std::span<const std::byte> bloom;  // address index, into the mapped footer; empty if none
};

struct BlockMeta {
  std::uint32_t rows = 0;
  std::vector<ChunkRef> chunks;  // one per stored column, in column order
};

struct StoredColumn {
  std::string name;
  FieldType type = FieldType::U8;
  int field = -1;  // FieldId of this build's registry, -1 when unknown (skipped)
};

// What a segment holds, from its footer.
struct SegmentInfo {
  std::uint64_t rows = 0;
  std::int64_t min_time = 0;  // start_time range of the rows, ms
  std::int64_t max_time = 0;
  std::uint64_t wal_number = 0;  // the WAL file whose records this segment made durable
  std::uint64_t file_bytes = 0;
};

struct SegmentWriteOptions {
  std::size_t block_rows = kDefaultBlockRows;
  ChunkOptions chunk;
  std::uint64_t wal_number = 0;
};

// Writes all rows of `batch` to `path` atomically (tmp file, fsync, rename, fsync of the
// directory). Errors name the file and what to do (a full disk, permissions).
Result<SegmentInfo> write_segment(const std::filesystem::path& path, const SessionBatch& batch,
                                  const SegmentWriteOptions& options);
// The rows of several batches in order, without copying them into one first; blocks do not
// span batches.
Result<SegmentInfo> write_segment(const std::filesystem::path& path,
                                  std::span<const SessionBatch* const> batches,
                                  const SegmentWriteOptions& options);

class Segment {
 public:
  // Maps the file and checks its header (magic, version), trailer and footer checksum. Errors
  // name the file: "seg-0000000003.fsg: footer checksum mismatch (file corrupted); ...".
  static Result<std::shared_ptr<const Segment>> open(const std::filesystem::path& path);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const SegmentInfo& info() const { return info_; }
  std::span<const BlockMeta> blocks() const { return blocks_; }
  std::span<const StoredColumn> columns() const { return columns_; }
  // Index of the stored column of `field`, or -1 when this segment has none.
  int slot_of(FieldId field) const { return slot_[static_cast<std::size_t>(field)]; }

  // Decodes block `block`, column `slot` into rows [0, rows) of `out` (see decode_column).
  // Verifies the chunk's checksum first; errors name the file, block and column.
  Result<void> read_chunk(std::size_t block, int slot, Column& out) const;

 private:
  Segment() = default;
  Result<void> parse(std::span<const std::byte> file);

  std::filesystem::path path_;
  const std::byte* map_ = nullptr;
  std::size_t map_size_ = 0;
  SegmentInfo info_;
  std::vector<StoredColumn> columns_;
  std::vector<BlockMeta> blocks_;
  std::array<int, kFieldCount> slot_{};
};

}  // namespace flowscope::store
