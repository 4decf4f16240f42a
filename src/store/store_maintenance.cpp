// EmbeddedStore's writer-side maintenance: sealing the tail into segments and rollups (flush),
// retention and close. The ordering of a flush is what makes recovery exactly-once; see
// embedded_store.h and docs/storage.md "Flush and recovery".
#include <sys/file.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <unistd.h>

#include "core/log.h"
#include "store/batch_codec.h"
#include "store/embedded_store.h"
#include "store/file_util.h"
#include "store/rollup.h"

namespace flowscope::store {
namespace fs = std::filesystem;

Result<std::vector<SegmentEntry>> EmbeddedStore::seal(const Snapshot& snap,
                                                      std::uint64_t wal_number,
                                                      std::vector<fs_path>& written) {
  // Raw rows by hourly partition of start_time (absent: 0, the 1970 partition). A tail batch
  // within one partition (the usual case: batches are close in time) is used as it is; others
  // are split.
  std::map<std::int64_t, std::vector<std::shared_ptr<const SessionBatch>>> raw;
  std::map<std::int64_t, std::vector<std::uint32_t>> rows;
  for (const auto& batch : snap.tail) {
    rows.clear();
    const auto starts = batch->values<FieldId::StartTime>();
    for (std::size_t row = 0; row < batch->size(); ++row) {
      rows[floor_to(partition_time(starts[row]), partition_span_ms(Level::Raw))].push_back(
          static_cast<std::uint32_t>(row));
    }
    if (rows.size() == 1) {
      raw[rows.begin()->first].push_back(batch);
      continue;
    }
    for (const auto& [begin, selected] : rows) {
      auto part = std::make_shared<SessionBatch>(selected.size());
      append_rows(*batch, selected, *part);
      raw[begin].push_back(std::move(part));
    }
  }

  SegmentWriteOptions wopt;
  wopt.block_rows = options_.block_rows;
  wopt.chunk = options_.segment_chunk;
  wopt.wal_number = wal_number;
  std::vector<SegmentEntry> entries;
  auto write = [&](Level level, const std::string& view, std::int64_t begin,
                   std::span<const SessionBatch* const> batches) -> Result<void> {
    const std::string part = partition_name(level, begin);
    const fs::path dir = level_dir(level, view) / part;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return io_error(dir, "create partition directory", ec.value());
    if (auto r = fsync_dir(dir.parent_path()); !r) return r;
    const fs::path path = dir / fmt::format("seg-{:012}.fsg", wal_number);
    written.push_back(path);
    auto info = write_segment(path, batches, wopt);
    if (!info) return info.error();
    auto seg = Segment::open(path);
    if (!seg) return seg.error();
    entries.push_back({level, view, part, floor_to(begin, partition_span_ms(level)), *seg});
    return ok();
  };

  for (const auto& [begin, parts] : raw) {
    std::vector<const SessionBatch*> ptrs;
    for (const auto& p : parts) ptrs.push_back(p.get());
    if (auto r = write(Level::Raw, "", begin, ptrs); !r) return r.error();
  }
  for (const RollupView& view : options_.rollups) {
    for (Level level : {Level::Minute, Level::Hour, Level::Day}) {
      // Hourly raw partitions nest in daily rollup partitions (both aligned to UTC midnight).
      std::map<std::int64_t, std::vector<const SessionBatch*>> merged;
      for (const auto& [begin, parts] : raw) {
        for (const auto& part : parts) {
          merged[floor_to(begin, partition_span_ms(level))].push_back(part.get());
        }
      }
      for (const auto& [begin, batches] : merged) {
        // One rollup of every batch of the partition: groups that batches and hours share merge.
        const SessionBatch rolled = rollup_batches(batches, view.keys, bucket_ms(level));
        const SessionBatch* one = &rolled;
        if (auto r = write(level, view.name, begin, std::span(&one, 1)); !r) return r.error();
      }
    }
  }
  return entries;
}

Result<void> EmbeddedStore::flush() {
  if (options_.read_only || closed_) return ok();
  auto snap = snapshot();
  std::uint64_t wal_number = 0;
  {
    std::lock_guard lock(wal_mutex_);
    if (!wal_ || !snap) return ok();  // open failed before the store was usable
    wal_number = wal_->file_number();
  }
  if (snap->tail.empty()) return ok();
  // New appends go to the next WAL file from here on; this one is trimmed once sealed.
  if (auto r = start_wal(wal_number + 1); !r) return r;
  std::vector<fs_path> written;
  auto entries = seal(*snap, wal_number, written);
  if (entries) {
    if (auto r = write_checkpoint_file(wal_number); !r) entries = r.error();
  }
  if (!entries) {
    // Nothing is lost: the rows stay in the tail and in the WAL; the partial segments are newer
    // than the checkpoint, so recovery would ignore them too.
    std::error_code ec;
    for (const fs_path& p : written) fs::remove(p, ec);
    return entries.error();
  }
  auto next = std::make_shared<Snapshot>();
  next->segments = snap->segments;
  next->bad_segments = snap->bad_segments;
  next->segments.insert(next->segments.end(), entries->begin(), entries->end());
  std::sort(next->segments.begin(), next->segments.end(), [](const auto& a, const auto& b) {
    return std::tie(a.level, a.view, a.partition_begin, a.segment->path()) <
           std::tie(b.level, b.view, b.partition_begin, b.segment->path());
  });
  publish(std::move(next));
  checkpoint_wal_ = wal_number;
  raise_durable(next_seq_ - 1);
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(options_.dir / "wal", ec)) {
    const std::string name = f.path().filename().string();
    const std::string digits = name.substr(0, name.find('.'));
    if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
        std::stoull(digits) <= wal_number) {
      fs::remove(f.path(), ec);
    }
  }
  return ok();
}

Result<std::size_t> EmbeddedStore::drop_level_before(Level level, std::int64_t cutoff_ms) {
  if (options_.read_only) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{}: store is open read-only", options_.dir.string())};
  }
  // Whole partitions by directory name, so that unreadable segments go too.
  std::vector<std::pair<std::string, fs::path>> doomed;  // (view, partition dir)
  std::vector<std::pair<std::string, fs::path>> level_dirs;
  std::error_code ec;
  if (level == Level::Raw) {
    level_dirs.emplace_back("", level_dir(level, ""));
  } else if (fs::is_directory(options_.dir / "rollup", ec)) {
    for (const auto& view : fs::directory_iterator(options_.dir / "rollup", ec)) {
      const std::string name = view.path().filename().string();
      level_dirs.emplace_back(name, level_dir(level, name));
    }
  }
  for (const auto& [view, dir] : level_dirs) {
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& part : fs::directory_iterator(dir, ec)) {
      auto begin = parse_partition_name(level, part.path().filename().string());
      if (begin && *begin + partition_span_ms(level) <= cutoff_ms) {
        doomed.emplace_back(view, part.path());
      }
    }
  }
  if (doomed.empty()) return std::size_t{0};
  auto snap = snapshot();
  auto next = std::make_shared<Snapshot>(*snap);
  auto in_doomed = [&](const fs::path& file) {
    return std::any_of(doomed.begin(), doomed.end(),
                       [&](const auto& d) { return file.parent_path() == d.second; });
  };
  std::erase_if(next->segments, [&](const SegmentEntry& e) {
    return e.level == level && in_doomed(e.segment->path());
  });
  std::erase_if(next->bad_segments, [&](const BadSegment& b) { return in_doomed(b.path); });
  // Readers that hold the old snapshot keep their mappings; the files go when they let go.
  publish(std::move(next));
  for (const auto& [view, dir] : doomed) {
    fs::remove_all(dir, ec);
    if (ec) return io_error(dir, "remove partition", ec.value());
  }
  logger("store")->info("retention: dropped {} {} partitions before {}", doomed.size(),
                        level_name(level), cutoff_ms);
  return doomed.size();
}

Result<std::size_t> EmbeddedStore::drop_before(std::int64_t cutoff_ms) {
  return drop_level_before(Level::Raw, cutoff_ms);
}

Result<std::size_t> EmbeddedStore::apply_retention(std::int64_t now_ms) {
  std::size_t total = 0;
  for (Level level : kLevels) {
    const std::int64_t keep = options_.keep_ms[static_cast<std::size_t>(level)];
    if (keep <= 0) continue;
    auto n = drop_level_before(level, now_ms - keep);
    if (!n) return n.error();
    total += *n;
  }
  return total;
}

Result<void> EmbeddedStore::close() {
  if (closed_) return ok();
  Result<void> status = ok();
  if (!options_.read_only) status = flush();
  {
    std::lock_guard lock(wal_mutex_);
    stop_sync_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (status && !options_.read_only) status = sync();
  closed_ = true;
  if (lock_fd_ >= 0) {
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  return status;
}

}  // namespace flowscope::store
