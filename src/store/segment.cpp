#include "store/segment.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/byte_reader.h"
#include "store/file_util.h"

namespace flowscope::store {
namespace {

constexpr std::size_t kHeaderSize = 16;   // magic, version, flags
constexpr std::size_t kTrailerSize = 32;  // footer offset, size, checksum, magic

Error corrupt(const std::filesystem::path& path, std::string_view what) {
  return Error{ErrorCode::Corruption,
               fmt::format("{}: {} (file corrupted); the other segments stay readable: move "
                           "this file away, or restore it from a backup",
                           path.string(), what)};
}

void put_zone(ByteWriter& w, const ZoneMap& z) {
  w.u8(z.present ? 1 : 0);
  w.u64(z.min.hi);
  w.u64(z.min.lo);
  w.u64(z.max.hi);
  w.u64(z.max.lo);
}

ZoneMap get_zone(ByteReader& r) {
  ZoneMap z;
  z.present = r.u8() != 0;
  z.min.hi = r.u64le();
  z.min.lo = r.u64le();
  z.max.hi = r.u64le();
  z.max.lo = r.u64le();
  return z;
}

}  // namespace

Result<SegmentInfo> write_segment(const std::filesystem::path& path, const SessionBatch& batch,
                                  const SegmentWriteOptions& options) {
  const SessionBatch* one = &batch;
  return write_segment(path, std::span(&one, 1), options);
}

Result<SegmentInfo> write_segment(const std::filesystem::path& path,
                                  std::span<const SessionBatch* const> batches,
                                  const SegmentWriteOptions& options) {
  std::string file;
  ByteWriter w(file);
  w.u64(kSegmentMagic);
  w.u32(kSegmentVersion);
  w.u32(0);

  SegmentInfo info;
  info.wal_number = options.wal_number;
  info.min_time = std::numeric_limits<std::int64_t>::max();
  info.max_time = std::numeric_limits<std::int64_t>::min();
  const auto fields = fields_of(RecordKind::Session, /*stored_only=*/true);
  std::vector<BlockMeta> blocks;
  std::vector<std::string> blooms;  // per chunk, in footer order
  for (const SessionBatch* batch : batches) {
    info.rows += batch->size();
    const Column& start = batch->column(FieldId::StartTime);
    const auto starts = batch->values<FieldId::StartTime>();
    for (std::size_t row = 0; row < batch->size(); ++row) {
      const std::int64_t t = start.valid(row) ? starts[row] : 0;
      info.min_time = std::min(info.min_time, t);
      info.max_time = std::max(info.max_time, t);
    }
    for (std::size_t begin = 0; begin < batch->size(); begin += options.block_rows) {
      BlockMeta block;
      block.rows = static_cast<std::uint32_t>(std::min(options.block_rows, batch->size() - begin));
      for (FieldId id : fields) {
        EncodedChunk chunk = encode_column(batch->column(id), begin, block.rows, options.chunk);
        ChunkRef ref;
        ref.offset = file.size();
        ref.size = static_cast<std::uint32_t>(chunk.bytes.size());
        ref.checksum = checksum(chunk.bytes);
        ref.encoding = chunk.encoding;
        ref.zone = chunk.zone;
        file += chunk.bytes;
        block.chunks.push_back(ref);
        blooms.push_back(std::move(chunk.bloom));
      }
      blocks.push_back(std::move(block));
    }
  }
  if (info.rows == 0) info.min_time = info.max_time = 0;

  const std::uint64_t footer_offset = file.size();
  w.u64(info.rows);
  w.u64(static_cast<std::uint64_t>(info.min_time));
  w.u64(static_cast<std::uint64_t>(info.max_time));
  w.u64(info.wal_number);
  w.u16(static_cast<std::uint16_t>(fields.size()));
  for (FieldId id : fields) {
    w.str16(field_info(id).name);
    w.u8(static_cast<std::uint8_t>(field_info(id).type));
  }
  w.u32(static_cast<std::uint32_t>(blocks.size()));
  std::size_t bloom_idx = 0;
  for (const BlockMeta& block : blocks) {
    w.u32(block.rows);
    for (const ChunkRef& c : block.chunks) {
      w.u64(c.offset);
      w.u32(c.size);
      w.u64(c.checksum);
      w.u8(static_cast<std::uint8_t>(c.encoding));
      put_zone(w, c.zone);
      const std::string& bloom = blooms[bloom_idx++];
      w.u32(static_cast<std::uint32_t>(bloom.size()));
      w.bytes(bloom.data(), bloom.size());
    }
  }
  const std::uint64_t footer_size = file.size() - footer_offset;
  const std::uint64_t footer_sum =
      checksum(std::string_view(file).substr(footer_offset, footer_size));
  w.u64(footer_offset);
  w.u64(footer_size);
  w.u64(footer_sum);
  w.u64(kSegmentTrailerMagic);
  info.file_bytes = file.size();
  if (auto r = write_file_atomic(path, file); !r) return r.error();
  return info;
}

Result<std::shared_ptr<const Segment>> Segment::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error(path, "open segment", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error(path, "stat segment", err);
  }
  std::shared_ptr<Segment> seg(new Segment());
  seg->path_ = path;
  seg->map_size_ = static_cast<std::size_t>(st.st_size);
  if (seg->map_size_ > 0) {
    void* p = ::mmap(nullptr, seg->map_size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return io_error(path, "map segment", err);
    }
    seg->map_ = static_cast<const std::byte*>(p);
  }
  ::close(fd);
  if (auto r = seg->parse({seg->map_, seg->map_size_}); !r) return r.error();
  return std::shared_ptr<const Segment>(std::move(seg));
}

Segment::~Segment() {
  if (map_ != nullptr) ::munmap(const_cast<std::byte*>(map_), map_size_);
}

Result<void> Segment::parse(std::span<const std::byte> file) {
  slot_.fill(-1);
  if (file.size() < kHeaderSize + kTrailerSize) {
    return corrupt(path_,
                   fmt::format("{} bytes is too short for a segment (half-written?)", file.size()));
  }
  ByteReader header(file.first(kHeaderSize));
  if (header.u64le() != kSegmentMagic) return corrupt(path_, "not a flowscope segment (bad magic)");
  const std::uint32_t version = header.u32le();
  if (version != kSegmentVersion) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: segment format version {} is not supported by this flowscope "
                             "(it reads version {}); use a flowscope release that wrote it",
                             path_.string(), version, kSegmentVersion)};
  }
  ByteReader trailer(file.last(kTrailerSize));
  const std::uint64_t footer_offset = trailer.u64le();
  const std::uint64_t footer_size = trailer.u64le();
  const std::uint64_t footer_sum = trailer.u64le();
  if (trailer.u64le() != kSegmentTrailerMagic) {
    return corrupt(path_, "trailer missing (file cut short?)");
  }
  if (footer_offset < kHeaderSize || footer_offset > file.size() - kTrailerSize ||
      footer_size != file.size() - kTrailerSize - footer_offset) {
    return corrupt(path_, "footer position is out of range");
  }
  auto footer = file.subspan(footer_offset, footer_size);
  if (checksum(footer) != footer_sum) return corrupt(path_, "footer checksum mismatch");

  ByteReader r(footer);
  info_.rows = r.u64le();
  info_.min_time = static_cast<std::int64_t>(r.u64le());
  info_.max_time = static_cast<std::int64_t>(r.u64le());
  info_.wal_number = r.u64le();
  info_.file_bytes = file.size();
  const std::uint16_t ncols = r.u16le();
  for (std::uint16_t i = 0; i < ncols && !r.failed(); ++i) {
    StoredColumn c;
    auto name = r.bytes(r.u16le());
    c.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    c.type = static_cast<FieldType>(r.u8());
    if (auto id = find_field(RecordKind::Session, c.name);
        id && field_info(*id).type == c.type && SessionBatch::column_index(*id) >= 0) {
      c.field = static_cast<int>(*id);
      slot_[static_cast<std::size_t>(*id)] = static_cast<int>(i);
    }
    columns_.push_back(std::move(c));
  }
  const std::uint32_t nblocks = r.u32le();
  std::uint64_t rows = 0;
  for (std::uint32_t b = 0; b < nblocks && !r.failed(); ++b) {
    BlockMeta block;
    block.rows = r.u32le();
    rows += block.rows;
    for (std::uint16_t c = 0; c < ncols && !r.failed(); ++c) {
      ChunkRef ref;
      ref.offset = r.u64le();
      ref.size = r.u32le();
      ref.checksum = r.u64le();
      ref.encoding = static_cast<Encoding>(r.u8());
      ref.zone = get_zone(r);
      ref.bloom = r.bytes(r.u32le());
      if (ref.offset < kHeaderSize || ref.offset > footer_offset ||
          ref.size > footer_offset - ref.offset) {
        return corrupt(path_, fmt::format("block {} column {} lies outside the data", b, c));
      }
      block.chunks.push_back(ref);
    }
    blocks_.push_back(std::move(block));
  }
  if (r.failed() || !r.empty()) return corrupt(path_, "footer is malformed");
  if (rows != info_.rows) return corrupt(path_, "block rows do not add up to the segment's rows");
  return ok();
}

Result<void> Segment::read_chunk(std::size_t block, int slot, Column& out) const {
  const BlockMeta& meta = blocks_[block];
  const ChunkRef& ref = meta.chunks[static_cast<std::size_t>(slot)];
  std::span<const std::byte> bytes(map_ + ref.offset, ref.size);
  const StoredColumn& col = columns_[static_cast<std::size_t>(slot)];
  if (checksum(bytes) != ref.checksum) {
    return corrupt(path_, fmt::format("checksum mismatch in block {} column {}", block, col.name));
  }
  if (auto r = decode_column(bytes, meta.rows, col.type, out); !r) {
    return corrupt(path_,
                   fmt::format("block {} column {}: {}", block, col.name, r.error().message));
  }
  return ok();
}

}  // namespace flowscope::store
