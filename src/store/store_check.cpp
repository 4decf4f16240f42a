#include "store/store_check.h"

#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/log.h"
#include "store/file_util.h"
#include "store/segment.h"
#include "store/wal.h"

namespace flowscope::store {
namespace fs = std::filesystem;
namespace {

struct FoundSegment {
  fs::path relative;  // to the data directory
  SegmentLocation location;
};

// What sits under raw/ and rollup/<view>/<level>/.
struct Layout {
  std::vector<FoundSegment> segments;
  std::vector<fs::path> tmp_files;                       // writes cut short; open removes them
  std::vector<std::pair<fs::path, std::string>> strays;  // not store data, and why
};

void scan_level_dir(const fs::path& dir, const fs::path& level_rel, Layout& out) {
  std::error_code ec;
  if (!fs::is_directory(dir / level_rel, ec)) return;
  for (const auto& part : fs::directory_iterator(dir / level_rel, ec)) {
    const fs::path part_rel = level_rel / part.path().filename();
    if (!part.is_directory(ec) || !parse_segment_location(part_rel / segment_file_name(0))) {
      out.strays.emplace_back(part_rel, "not a partition directory");
      continue;
    }
    for (const auto& file : fs::directory_iterator(part.path(), ec)) {
      const fs::path rel = part_rel / file.path().filename();
      const std::string name = file.path().filename().string();
      auto loc = parse_segment_location(rel);
      if (loc && file.is_regular_file(ec)) {
        out.segments.push_back({rel, *loc});
      } else if (name.ends_with(".tmp")) {
        out.tmp_files.push_back(rel);
      } else {
        out.strays.emplace_back(rel, loc ? "not a regular file" : "not a segment file");
      }
    }
  }
}

Layout scan_layout(const fs::path& dir) {
  Layout out;
  scan_level_dir(dir, "raw", out);
  std::error_code ec;
  if (fs::is_directory(dir / "rollup", ec)) {
    for (const auto& view : fs::directory_iterator(dir / "rollup", ec)) {
      const fs::path view_rel = fs::path("rollup") / view.path().filename();
      if (!view.is_directory(ec)) {
        out.strays.emplace_back(view_rel, "not a rollup view directory");
        continue;
      }
      for (const auto& level : fs::directory_iterator(view.path(), ec)) {
        const fs::path level_rel = view_rel / level.path().filename();
        auto l = parse_level(level.path().filename().string());
        if (!l || *l == Level::Raw || !level.is_directory(ec)) {
          out.strays.emplace_back(level_rel, "not a rollup level directory (1m, 1h, 1d)");
          continue;
        }
        scan_level_dir(dir, level_rel, out);
      }
    }
  }
  auto by_path = [](const auto& a, const auto& b) { return a.relative < b.relative; };
  std::sort(out.segments.begin(), out.segments.end(), by_path);
  std::sort(out.tmp_files.begin(), out.tmp_files.end());
  std::sort(out.strays.begin(), out.strays.end());
  return out;
}

// Opens the segment (header, footer checksum), reads every chunk (chunk checksums) and checks
// that its footer agrees with where it sits (WAL number, partition).
Result<SegmentInfo> verify_segment(const fs::path& path, const SegmentLocation& loc) {
  auto seg = Segment::open(path);
  if (!seg) return seg.error();
  const SegmentInfo& info = (*seg)->info();
  if (info.wal_number != loc.number) {
    return Error{ErrorCode::Corruption,
                 fmt::format("{}: its footer says WAL {} but its name says {}", path.string(),
                             info.wal_number, loc.number)};
  }
  const std::int64_t span = partition_span_ms(loc.level);
  if (info.rows > 0 && (floor_to(partition_time(info.min_time), span) != loc.partition_begin ||
                        floor_to(partition_time(info.max_time), span) != loc.partition_begin)) {
    return Error{ErrorCode::Corruption, fmt::format("{}: its rows' times are outside partition {}",
                                                    path.string(), loc.partition)};
  }
  for (std::size_t b = 0; b < (*seg)->blocks().size(); ++b) {
    SessionBatch scratch;
    scratch.add_rows((*seg)->blocks()[b].rows);
    const auto columns = (*seg)->columns();
    for (std::size_t slot = 0; slot < columns.size(); ++slot) {
      if (columns[slot].field < 0) continue;  // a column this build does not know
      const auto field = static_cast<FieldId>(columns[slot].field);
      if (auto r = (*seg)->read_chunk(b, static_cast<int>(slot), scratch.mutable_column(field));
          !r) {
        return r.error();
      }
    }
  }
  return info;
}

std::map<std::uint64_t, fs::path> wal_files(const fs::path& dir) {
  std::map<std::uint64_t, fs::path> out;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir / "wal", ec)) {
    const std::string name = f.path().filename().string();
    if (!name.ends_with(".wal")) continue;
    const std::string digits = name.substr(0, name.size() - 4);
    if (digits.empty() || digits.size() > 19 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    out.emplace(std::stoull(digits), f.path());
  }
  return out;
}

// Segments under orphans/ that can go back: a segment path once the "orphans/" prefix is
// dropped (names with a ".1" suffix, a second orphan of the same name, cannot).
std::vector<FoundSegment> orphan_segments(const fs::path& dir, std::vector<fs::path>* others) {
  std::vector<FoundSegment> out;
  std::error_code ec;
  const fs::path root = dir / kOrphansDir;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& f : fs::recursive_directory_iterator(root, ec)) {
    if (!f.is_regular_file(ec)) continue;
    const fs::path rel = fs::relative(f.path(), root, ec);
    if (auto loc = parse_segment_location(rel)) {
      out.push_back({rel, *loc});
    } else if (others != nullptr) {
      others->push_back(rel);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.relative < b.relative; });
  if (others != nullptr) std::sort(others->begin(), others->end());
  return out;
}

Result<void> require_store_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir / "wal", ec)) {
    return Error{ErrorCode::NotFound,
                 fmt::format("{} is not a flowscope data directory (it has no wal/); pass the "
                             "store's directory with -d",
                             dir.string())};
  }
  return ok();
}

std::string repair_hint(const fs::path& dir) {
  return fmt::format("'flowscope store repair -d {}'", dir.string());
}

}  // namespace

Result<StoreCheckReport> check_store(const fs::path& dir) {
  if (auto r = require_store_dir(dir); !r) return r.error();
  StoreCheckReport report;
  std::error_code ec;
  const fs::path cp_path = dir / kCheckpointFile;
  report.checkpoint_present = fs::exists(cp_path, ec);
  bool cp_ok = report.checkpoint_present;
  if (auto cp = read_checkpoint(cp_path)) {
    report.checkpoint = *cp;
  } else {
    cp_ok = false;
    report.problems.push_back(cp.error().message);
  }
  const auto wals = wal_files(dir);
  report.wal_files = wals.size();
  const Layout layout = scan_layout(dir);
  if (!report.checkpoint_present && !layout.segments.empty()) {
    report.problems.push_back(
        fmt::format("{}: missing, so no segment is referenced; {} rebuilds it from the segments",
                    cp_path.string(), repair_hint(dir)));
  }
  for (const FoundSegment& s : layout.segments) {
    const fs::path path = dir / s.relative;
    if (!cp_ok || s.location.number > report.checkpoint.wal_number) {
      if (wals.contains(s.location.number)) {
        ++report.pending_segments;
        report.notes.push_back(
            fmt::format("{}: written by a flush cut short; the next open removes it and replays "
                        "its rows from wal/",
                        s.relative.string()));
        continue;
      }
      report.problems.push_back(fmt::format(
          "{}: not referenced by the checkpoint (WAL {} > {}) and no WAL file holds its rows; "
          "{} references it",
          s.relative.string(), s.location.number, report.checkpoint.wal_number, repair_hint(dir)));
      continue;
    }
    auto info = verify_segment(path, s.location);
    if (!info) {
      report.problems.push_back(fmt::format(
          "{}: damaged: {}; restore it from a backup, or move it out of the store to accept the "
          "loss of its rows",
          s.relative.string(), info.error().message));
      continue;
    }
    ++report.segments;
    if (s.location.level == Level::Raw) report.raw_rows += info->rows;
  }
  for (const fs::path& t : layout.tmp_files) {
    report.notes.push_back(
        fmt::format("{}: a write cut short; the next open removes it", t.string()));
  }
  for (const auto& [rel, why] : layout.strays) {
    report.problems.push_back(fmt::format("{}: {}; {} moves it to {}/", rel.string(), why,
                                          repair_hint(dir), kOrphansDir));
  }
  std::vector<fs::path> other_orphans;
  for (const FoundSegment& s : orphan_segments(dir, &other_orphans)) {
    const fs::path shown = fs::path(kOrphansDir) / s.relative;
    if (fs::exists(dir / s.relative, ec)) {
      report.notes.push_back(fmt::format("{}: kept aside; {} exists, so it cannot go back",
                                         shown.string(), s.relative.string()));
    } else if (auto info = verify_segment(dir / kOrphansDir / s.relative, s.location); !info) {
      report.notes.push_back(
          fmt::format("{}: kept aside, damaged: {}", shown.string(), info.error().message));
    } else {
      ++report.orphaned_segments;
      report.problems.push_back(
          fmt::format("{}: a segment ({} rows) not referenced by the checkpoint; {} restores it",
                      shown.string(), info->rows, repair_hint(dir)));
    }
  }
  for (const fs::path& rel : other_orphans) {
    report.notes.push_back(
        fmt::format("{}: kept aside (not a segment)", (fs::path(kOrphansDir) / rel).string()));
  }
  return report;
}

namespace {

// Holds DATADIR/LOCK like a writable EmbeddedStore::open, for as long as it lives.
class StoreLock {
 public:
  static Result<std::unique_ptr<StoreLock>> take(const fs::path& dir) {
    auto lock = std::unique_ptr<StoreLock>(new StoreLock);
    const fs::path path = dir / "LOCK";
    lock->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock->fd_ < 0) return io_error(path, "open", errno);
    if (::flock(lock->fd_, LOCK_EX | LOCK_NB) != 0) {
      return Error{ErrorCode::Io,
                   fmt::format("{}: another flowscope process (flowscope serve, import) is "
                               "writing to this store; stop it, then run the repair again",
                               dir.string())};
    }
    return lock;
  }
  ~StoreLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  StoreLock() = default;
  int fd_ = -1;
};

Result<void> move_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) return io_error(to.parent_path(), "create directory", ec.value());
  fs::rename(from, to, ec);
  if (ec) return io_error(from, "move to " + to.string() + ":", ec.value());
  if (auto r = fsync_dir(to.parent_path()); !r) return r;
  return fsync_dir(from.parent_path());
}

}  // namespace

Result<RepairReport> repair_store(const fs::path& dir) {
  if (auto r = require_store_dir(dir); !r) return r.error();
  auto lock = StoreLock::take(dir);
  if (!lock) return lock.error();
  RepairReport report;
  std::error_code ec;
  if (auto cp = read_checkpoint(dir / kCheckpointFile); cp && fs::exists(dir / kCheckpointFile)) {
    report.before = *cp;
  }
  const Checkpoint old = report.before.value_or(Checkpoint{});

  // Stray files out of the way first, so that what remains is store data only.
  const Layout before = scan_layout(dir);
  for (const auto& [rel, why] : before.strays) {
    auto moved = move_to_orphans(dir, rel);
    if (!moved) return moved.error();
    ++report.set_aside;
    report.actions.push_back(
        fmt::format("moved {} ({}) to {}", rel.string(), why, fs::relative(*moved, dir).string()));
  }
  // Orphans back into place: only readable ones, and never over an existing file.
  for (const FoundSegment& s : orphan_segments(dir, nullptr)) {
    const fs::path from = dir / kOrphansDir / s.relative;
    const fs::path shown = fs::path(kOrphansDir) / s.relative;
    if (fs::exists(dir / s.relative, ec)) {
      report.actions.push_back(
          fmt::format("kept {}: {} exists", shown.string(), s.relative.string()));
      continue;
    }
    if (auto info = verify_segment(from, s.location); !info) {
      report.actions.push_back(
          fmt::format("kept {}: damaged: {}", shown.string(), info.error().message));
      continue;
    }
    if (auto r = move_file(from, dir / s.relative); !r) return r.error();
    ++report.restored;
    report.actions.push_back(fmt::format("restored {}", s.relative.string()));
  }
  // The checkpoint: every segment whose WAL file is gone is sealed. One whose WAL file is still
  // there above the checkpoint is a flush cut short; the WAL replays it, so it stays above.
  const auto wals = wal_files(dir);
  Checkpoint next = old;
  for (const FoundSegment& s : scan_layout(dir).segments) {
    if (s.location.number > old.wal_number && wals.contains(s.location.number)) continue;
    next.wal_number = std::max(next.wal_number, s.location.number);
  }
  // Sequences go on from the highest one the WAL files hold (those at or below the new
  // checkpoint are deleted by the next open).
  for (const auto& [number, path] : wals) {
    auto stats = replay_wal(path, [&](std::uint64_t seq, std::span<const std::byte>) {
      next.last_sequence = std::max(next.last_sequence, seq);
      return ok();
    });
    if (!stats) return stats.error();
  }
  report.after = next;
  if (!report.before || report.before->wal_number != next.wal_number ||
      report.before->last_sequence != next.last_sequence) {
    if (auto r = write_checkpoint(dir / kCheckpointFile, next); !r) return r.error();
    report.actions.push_back(fmt::format(
        "wrote {}: segments up to WAL {} (was {}), last sequence {}", kCheckpointFile,
        next.wal_number, report.before ? fmt::format("{}", report.before->wal_number) : "missing",
        next.last_sequence));
  }
  // Empty directories left under orphans/ go; anything kept there stays.
  if (fs::is_directory(dir / kOrphansDir, ec)) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::recursive_directory_iterator(dir / kOrphansDir, ec)) {
      if (e.is_directory(ec)) dirs.push_back(e.path());
    }
    std::sort(dirs.rbegin(), dirs.rend());  // deepest first
    for (const fs::path& d : dirs) {
      if (fs::is_empty(d, ec)) fs::remove(d, ec);
    }
    if (fs::is_empty(dir / kOrphansDir, ec)) fs::remove(dir / kOrphansDir, ec);
  }
  logger("store")->info("{}: repair restored {} segments, set {} files aside", dir.string(),
                        report.restored, report.set_aside);
  return report;
}

}  // namespace flowscope::store
