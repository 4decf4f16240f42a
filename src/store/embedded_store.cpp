#include "store/embedded_store.h"

#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/byte_reader.h"
#include "core/log.h"
#include "store/batch_codec.h"
#include "store/checkpoint.h"
#include "store/file_util.h"
#include "store/rollup.h"
#include "store/snapshot.h"
#include "store/store_config.h"

namespace flowscope::store {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kWalSuffix = ".wal";
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr std::size_t kCoalesceRows = 4096;

bool entry_less(const SegmentEntry& a, const SegmentEntry& b) {
  return std::tie(a.level, a.view, a.partition_begin, a.segment->path()) <
         std::tie(b.level, b.view, b.partition_begin, b.segment->path());
}

}  // namespace

Result<std::unique_ptr<EmbeddedStore>> EmbeddedStore::open(const StoreOptions& options) {
  std::unique_ptr<EmbeddedStore> store(new EmbeddedStore(options));
  const fs::path& dir = options.dir;
  std::error_code ec;
  if (options.read_only) {
    if (!fs::is_directory(dir, ec)) {
      return Error{ErrorCode::NotFound,
                   fmt::format("data directory {} does not exist; pass the store's directory "
                               "with -d",
                               dir.string())};
    }
    if (!fs::is_directory(dir / "wal", ec)) {
      return Error{ErrorCode::NotFound,
                   fmt::format("{} is not a flowscope data directory (it has no wal/); pass "
                               "the store's directory with -d",
                               dir.string())};
    }
  } else {
    fs::create_directories(dir / "wal", ec);
    if (ec) return io_error(dir, "create data directory", ec.value());
    const fs::path lock = dir / "LOCK";
    store->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (store->lock_fd_ < 0) return io_error(lock, "open", errno);
    if (::flock(store->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return Error{ErrorCode::Io,
                   fmt::format("{}: another flowscope process is writing to this store; stop "
                               "it, or open the store read-only",
                               dir.string())};
    }
  }
  if (options.use_dir_config) {
    auto config = load_store_config(dir);
    if (!config) return config.error();
    if (*config) {
      if (store->options_.rollups.empty()) store->options_.rollups = (*config)->rollups;
      for (std::size_t l = 0; l < store->options_.keep_ms.size(); ++l) {
        if (store->options_.keep_ms[l] == 0) store->options_.keep_ms[l] = (*config)->keep_ms[l];
      }
    }
  }
  if (auto r = store->recover(); !r) return r.error();
  if (!options.read_only) {
    // Above every segment number too, orphaned ones included, so that a new flush never
    // writes a segment under the name of one that `store repair` may bring back.
    const std::uint64_t next_wal =
        std::max({store->checkpoint_wal_, store->last_wal_number_, store->max_segment_number_}) + 1;
    if (auto r = store->start_wal(next_wal); !r) return r.error();
    if (options.sync_interval.count() > 0) {
      store->sync_thread_ = std::thread([s = store.get()] { s->sync_loop(); });
    }
  }
  return store;
}

EmbeddedStore::~EmbeddedStore() {
  if (auto r = close(); !r)
    logger("store")->error("closing {}: {}", options_.dir.string(), r.error().message);
}

fs::path EmbeddedStore::wal_path(std::uint64_t number) const {
  return options_.dir / "wal" / fmt::format("{:012}{}", number, kWalSuffix);
}

fs::path EmbeddedStore::level_dir(Level level, const std::string& view) const {
  if (level == Level::Raw) return options_.dir / "raw";
  return options_.dir / "rollup" / view / std::string(level_name(level));
}

Result<void> EmbeddedStore::recover() {
  // A read-only open runs beside the writer: if a flush checkpoints between reading CHECKPOINT
  // and reading the WAL, the sealed WAL may be gone while its segments were skipped as too new.
  // Reading the checkpoint again tells; then the whole view is read again.
  constexpr int kAttempts = 5;
  std::shared_ptr<Snapshot> snap;
  for (int attempt = 0;; ++attempt) {
    auto cp = read_checkpoint(options_.dir / kCheckpointFile);
    if (!cp) return cp.error();
    checkpoint_wal_ = cp->wal_number;
    next_seq_ = cp->last_sequence + 1;
    recovery_ = RecoveryReport{};
    snap = std::make_shared<Snapshot>();
    if (auto r = load_segments(*snap); !r) return r;
    if (auto r = replay(*snap); !r) return r;
    if (!options_.read_only || attempt + 1 == kAttempts) break;
    auto again = read_checkpoint(options_.dir / kCheckpointFile);
    if (again && again->wal_number == cp->wal_number) break;
  }
  durable_seq_ = next_seq_ - 1;
  std::lock_guard lock(snap_mutex_);
  snap_ = std::move(snap);
  return ok();
}

Result<void> EmbeddedStore::load_segments(Snapshot& snap) {
  // (level, view, directory) for raw and for every rollup view found on disk.
  std::vector<std::tuple<Level, std::string, fs::path>> dirs;
  dirs.emplace_back(Level::Raw, "", level_dir(Level::Raw, ""));
  std::error_code ec;
  if (fs::is_directory(options_.dir / "rollup", ec)) {
    for (const auto& view : fs::directory_iterator(options_.dir / "rollup", ec)) {
      for (Level l : {Level::Minute, Level::Hour, Level::Day}) {
        const std::string name = view.path().filename().string();
        dirs.emplace_back(l, name, level_dir(l, name));
      }
    }
  }
  for (const auto& [level, view, dir] : dirs) {
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& part : fs::directory_iterator(dir, ec)) {
      const std::string pname = part.path().filename().string();
      auto begin = parse_partition_name(level, pname);
      if (!begin || !part.is_directory()) {
        recovery_.notes.push_back(
            fmt::format("{}: not a partition directory; ignored", part.path().string()));
        continue;
      }
      for (const auto& file : fs::directory_iterator(part.path(), ec)) {
        const std::string fname = file.path().filename().string();
        if (fname.ends_with(kTmpSuffix)) {
          // A write cut short by a crash: the rows are still in the WAL.
          if (!options_.read_only) fs::remove(file.path(), ec);
          ++recovery_.incomplete_segments_removed;
          continue;
        }
        auto number = segment_number(fname);
        if (!number) {
          recovery_.notes.push_back(
              fmt::format("{}: not a segment file; ignored", file.path().string()));
          continue;
        }
        max_segment_number_ = std::max(max_segment_number_, *number);
        if (*number > checkpoint_wal_) {
          if (fs::exists(wal_path(*number), ec)) {
            // Written by a flush that did not reach its checkpoint: its WAL file is still
            // there (a flush trims it only after the checkpoint) and replays these rows.
            if (!options_.read_only) fs::remove(file.path(), ec);
            ++recovery_.incomplete_segments_removed;
          } else {
            // Neither the checkpoint nor a WAL file accounts for these rows (a lost or older
            // CHECKPOINT): keep them aside for `flowscope store repair`.
            orphan(file.path());
          }
          continue;
        }
        auto seg = Segment::open(file.path());
        if (!seg) {
          snap.bad_segments.push_back({file.path(), seg.error()});
          continue;
        }
        snap.segments.push_back({level, view, pname, *begin, std::move(*seg)});
      }
    }
  }
  std::sort(snap.segments.begin(), snap.segments.end(), entry_less);
  if (!options_.read_only && fs::is_directory(options_.dir / kOrphansDir, ec)) {
    for (const auto& f : fs::recursive_directory_iterator(options_.dir / kOrphansDir, ec)) {
      if (auto n = segment_number(f.path().filename().string())) {
        max_segment_number_ = std::max(max_segment_number_, *n);
      }
    }
  }
  if (recovery_.orphaned_segments > 0) {
    logger("store")->warn(
        "{}: moved {} segments the checkpoint does not reference to {}/ (nothing deleted); "
        "run 'flowscope store repair -d {}' to bring their rows back",
        options_.dir.string(), recovery_.orphaned_segments, kOrphansDir, options_.dir.string());
  }
  return ok();
}

void EmbeddedStore::orphan(const fs::path& file) {
  ++recovery_.orphaned_segments;
  if (options_.read_only) {
    recovery_.notes.push_back(
        fmt::format("{}: not referenced by the checkpoint; skipped ('flowscope store repair' "
                    "restores it)",
                    file.string()));
    return;
  }
  auto moved = move_to_orphans(options_.dir, fs::relative(file, options_.dir));
  if (moved) {
    recovery_.notes.push_back(fmt::format("{}: not referenced by the checkpoint; moved to {}",
                                          file.string(), moved->string()));
  } else {
    recovery_.notes.push_back(
        fmt::format("{}: not referenced by the checkpoint; left in place "
                    "({})",
                    file.string(), moved.error().message));
  }
  // One line per file moved (the summary after the scan is the warning).
  logger("store")->info("{}", recovery_.notes.back());
}

Result<void> EmbeddedStore::replay(Snapshot& snap) {
  std::vector<std::pair<std::uint64_t, fs::path>> files;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(options_.dir / "wal", ec)) {
    const std::string name = f.path().filename().string();
    if (!name.ends_with(kWalSuffix)) continue;
    const std::string digits = name.substr(0, name.size() - kWalSuffix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    files.emplace_back(std::stoull(digits), f.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& [number, path] : files) {
    last_wal_number_ = std::max(last_wal_number_, number);
    if (number <= checkpoint_wal_) {
      // Its records are in segments; a crash came between the checkpoint and the delete.
      if (!options_.read_only) fs::remove(path, ec);
      continue;
    }
    ++recovery_.wal_files;
    // A named copy: lambdas may not capture structured bindings before C++20 P1091 (clang 14).
    const fs::path& wal_path = path;
    auto stats = replay_wal(
        wal_path, [&](std::uint64_t seq, std::span<const std::byte> payload) -> Result<void> {
          auto batch = decode_batch(payload);
          if (!batch) {
            return Error{ErrorCode::Corruption,
                         fmt::format("{}: record {} passed its checksum but does not decode: {}",
                                     wal_path.string(), seq, batch.error().message)};
          }
          recovery_.wal_rows += batch->size();
          snap.tail_rows += batch->size();
          snap.tail.push_back(std::make_shared<const SessionBatch>(std::move(*batch)));
          next_seq_ = std::max(next_seq_, seq + 1);
          return ok();
        });
    if (!stats) {
      // Beside a writer, a WAL file may be trimmed while we read: recover() checks the
      // checkpoint again and starts over.
      if (options_.read_only && !fs::exists(path, ec)) continue;
      return stats.error();
    }
    recovery_.wal_records += stats->records;
    recovery_.wal_dropped_bytes += stats->dropped_bytes;
    if (stats->dropped_bytes > 0) {
      recovery_.notes.push_back(fmt::format("{}: cut {} bytes after {} records ({})", path.string(),
                                            stats->dropped_bytes, stats->records,
                                            stats->drop_reason));
      logger("store")->warn("{}", recovery_.notes.back());
    }
  }
  return ok();
}

Result<void> EmbeddedStore::start_wal(std::uint64_t number) {
  auto wal = WalWriter::create(wal_path(number), number);
  if (!wal) return wal.error();
  std::lock_guard lock(wal_mutex_);
  wal_ = std::shared_ptr<WalWriter>(std::move(*wal));
  return ok();
}

void EmbeddedStore::raise_durable(std::uint64_t seq) {
  std::uint64_t cur = durable_seq_.load();
  while (cur < seq && !durable_seq_.compare_exchange_weak(cur, seq)) {
  }
}

Result<void> EmbeddedStore::write_checkpoint_file(std::uint64_t wal_number) {
  return write_checkpoint(options_.dir / kCheckpointFile, Checkpoint{wal_number, next_seq_ - 1});
}

void EmbeddedStore::publish(std::shared_ptr<const Snapshot> snap) {
  std::lock_guard lock(snap_mutex_);
  snap_ = std::move(snap);
}

std::shared_ptr<const Snapshot> EmbeddedStore::snapshot() const {
  std::lock_guard lock(snap_mutex_);
  return snap_;
}

Result<std::uint64_t> EmbeddedStore::append(const SessionBatch& batch) {
  if (options_.read_only || closed_) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{}: store is open read-only or closed", options_.dir.string())};
  }
  if (batch.empty()) return next_seq_ - 1;
  const std::string payload = encode_batch(batch, options_.wal_chunk);
  const std::uint64_t seq = next_seq_;
  {
    std::lock_guard lock(wal_mutex_);
    if (auto r = wal_->append(WalRecordType::Batch, seq, payload); !r) return r.error();
    appended_seq_ = seq;
  }
  ++next_seq_;
  if (options_.sync_interval.count() == 0) {
    if (auto r = sync(); !r) return r.error();
  }
  auto old = snapshot();
  auto snap = std::make_shared<Snapshot>(*old);
  // Small batches (a collector flushing often) are coalesced into the last tail batch, so the
  // tail, copied into every snapshot, stays about rows / kCoalesceRows pointers long. Readers of
  // the old snapshot keep the old, unchanged batch.
  if (batch.size() < kCoalesceRows && !snap->tail.empty() &&
      snap->tail.back()->size() < kCoalesceRows) {
    auto merged = std::make_shared<SessionBatch>(*snap->tail.back());
    append_all(batch, *merged);
    snap->tail.back() = std::move(merged);
  } else {
    snap->tail.push_back(std::make_shared<const SessionBatch>(batch));
  }
  snap->tail_rows += batch.size();
  const bool full = snap->tail_rows >= options_.flush_rows;
  publish(std::move(snap));
  if (full) {
    // The batch is in the WAL whatever happens here; a failed flush is retried on the next.
    if (auto r = flush(); !r) logger("store")->error("flush: {}", r.error().message);
  }
  return seq;
}

Result<void> EmbeddedStore::sync() {
  std::shared_ptr<WalWriter> wal;
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(wal_mutex_);
    wal = wal_;
    seq = appended_seq_;
  }
  if (!wal) return ok();
  if (auto r = wal->sync(); !r) return r;
  raise_durable(seq);
  return ok();
}

void EmbeddedStore::sync_loop() {
  std::unique_lock lock(wal_mutex_);
  while (!stop_sync_) {
    sync_cv_.wait_for(lock, options_.sync_interval, [this] { return stop_sync_; });
    if (stop_sync_ || appended_seq_ <= durable_seq_.load()) continue;
    std::shared_ptr<WalWriter> wal = wal_;
    const std::uint64_t seq = appended_seq_;
    lock.unlock();
    // fdatasync outside the lock: appends go on meanwhile.
    auto r = wal->sync();
    lock.lock();
    if (r) {
      raise_durable(seq);
    } else {
      logger("store")->error("{}", r.error().message);
    }
  }
}

std::uint64_t EmbeddedStore::wal_bytes() const {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(options_.dir / "wal", ec)) {
    total += f.is_regular_file(ec) ? f.file_size(ec) : 0;
  }
  return total;
}

std::vector<PartitionStats> EmbeddedStore::partition_stats() const {
  auto snap = snapshot();
  std::vector<PartitionStats> out;
  for (const SegmentEntry& e : snap->segments) {
    if (out.empty() || out.back().level != e.level || out.back().view != e.view ||
        out.back().partition != e.partition) {
      PartitionStats p;
      p.level = e.level;
      p.view = e.view;
      p.partition = e.partition;
      p.min_time = e.segment->info().min_time;
      p.max_time = e.segment->info().max_time;
      out.push_back(p);
    }
    PartitionStats& p = out.back();
    ++p.segments;
    p.rows += e.segment->info().rows;
    p.bytes += e.segment->info().file_bytes;
    p.min_time = std::min(p.min_time, e.segment->info().min_time);
    p.max_time = std::max(p.max_time, e.segment->info().max_time);
  }
  return out;
}

}  // namespace flowscope::store
