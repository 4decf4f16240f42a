#include "store/checkpoint.h"

#include <fmt/format.h>

#include "core/byte_reader.h"
#include "store/file_util.h"
#include "store/format.h"

namespace flowscope::store {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSegmentPrefix = "seg-";
constexpr std::string_view kSegmentSuffix = ".fsg";

}  // namespace

Result<Checkpoint> read_checkpoint(const fs::path& path) {
  if (!fs::exists(path)) return Checkpoint{};
  auto data = read_file(path);
  if (!data) return data.error();
  ByteReader r(as_bytes(*data));
  Checkpoint c;
  c.wal_number = r.u64le();
  c.last_sequence = r.u64le();
  const std::uint64_t sum = r.u64le();
  if (r.failed() || !r.empty() || checksum(std::string_view(*data).substr(0, 16)) != sum) {
    return Error{ErrorCode::Corruption,
                 fmt::format("{}: checkpoint is damaged; restore it from a backup, or rebuild it "
                             "from the segments with 'flowscope store repair -d {}'",
                             path.string(), path.parent_path().string())};
  }
  return c;
}

Result<void> write_checkpoint(const fs::path& path, const Checkpoint& c) {
  std::string data;
  ByteWriter w(data);
  w.u64(c.wal_number);
  w.u64(c.last_sequence);
  w.u64(checksum(data));
  return write_file_atomic(path, data);
}

std::optional<std::uint64_t> segment_number(std::string_view name) {
  if (!name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  const std::string_view digits = name.substr(
      kSegmentPrefix.size(), name.size() - kSegmentPrefix.size() - kSegmentSuffix.size());
  if (digits.empty() || digits.size() > 19 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::stoull(std::string(digits));
}

std::string segment_file_name(std::uint64_t wal_number) {
  return fmt::format("{}{:012}{}", kSegmentPrefix, wal_number, kSegmentSuffix);
}

fs::path wal_file_path(const fs::path& dir, std::uint64_t number) {
  return dir / "wal" / fmt::format("{:012}.wal", number);
}

std::optional<SegmentLocation> parse_segment_location(const fs::path& relative) {
  std::vector<std::string> parts;
  for (const auto& p : relative) parts.push_back(p.string());
  SegmentLocation loc;
  if (parts.size() == 3 && parts[0] == "raw") {
    loc.level = Level::Raw;
  } else if (parts.size() == 5 && parts[0] == "rollup") {
    auto level = parse_level(parts[2]);
    if (!level || *level == Level::Raw) return std::nullopt;
    loc.level = *level;
    loc.view = parts[1];
  } else {
    return std::nullopt;
  }
  loc.partition = parts[parts.size() - 2];
  auto begin = parse_partition_name(loc.level, loc.partition);
  auto number = segment_number(parts.back());
  if (!begin || !number) return std::nullopt;
  loc.partition_begin = *begin;
  loc.number = *number;
  return loc;
}

Result<fs::path> move_to_orphans(const fs::path& dir, const fs::path& relative) {
  fs::path target = dir / kOrphansDir / relative;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return io_error(target.parent_path(), "create directory", ec.value());
  const fs::path base = target;
  for (int n = 1; fs::exists(target, ec); ++n)
    target = fs::path(base.string() + fmt::format(".{}", n));
  fs::rename(dir / relative, target, ec);
  if (ec) return io_error(dir / relative, "move aside to " + target.string() + ":", ec.value());
  if (auto r = fsync_dir(target.parent_path()); !r) return r.error();
  if (auto r = fsync_dir((dir / relative).parent_path()); !r) return r.error();
  return target;
}

}  // namespace flowscope::store
