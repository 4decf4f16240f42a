#include "server/pipeline.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/log.h"
#include "core/spsc_queue.h"
#include "store/batch_codec.h"

namespace flowscope::server {
namespace {

TimeMs wall_now() {
  return std::chrono::time_point_cast<DurationMs>(std::chrono::system_clock::now());
}

constexpr std::size_t kCommitRows = 8192;
constexpr auto kPollEvery = std::chrono::milliseconds(20);

}  // namespace

// One shard's share of one logged batch.
struct Pipeline::Item {
  std::shared_ptr<const FlowBatch> flows;
  session::ShardShare share;
  std::uint64_t seq = 0;
  std::int64_t watermark_end = 0;  // the router's watermark after the whole batch
};

struct Pipeline::Shard {
  Shard(std::size_t shard_index, std::size_t queue_batches, enrich::EnrichSources sources)
      : index(shard_index), queue(queue_batches), enricher(sources) {}
  const std::size_t index;
  SpscQueue<Item> queue;
  enrich::Enricher enricher;  // shard thread
  std::thread thread;
  std::mutex wake_mutex;
  std::condition_variable wake;
  std::atomic<bool> stop{false};

  mutable std::mutex mutex;  // the stitcher (swapped by set_stitch, read by stats)
  std::unique_ptr<session::Stitcher> stitcher;   // guarded by mutex
  std::unique_ptr<StitchConfig> pending_stitch;  // guarded by mutex
  PipelineStats counters;                        // guarded by mutex
  std::uint64_t closed_before = 0;               // guarded by mutex
  std::uint64_t next_session_id = 0;             // shard thread (sessions without positions)

  // Shard thread: how far it consumed the log, and the checkpoint waiting for the store.
  std::uint64_t consumed = 0;
  std::uint64_t last_append = 0;  // store sequence of its last append
  std::optional<ShardCheckpoint> pending;
  std::uint64_t pending_append = 0;
  std::chrono::steady_clock::time_point last_checkpoint{};
  // Lowest log seq this shard still needs (0: unknown yet); read by other shards to trim.
  std::atomic<std::uint64_t> low_seq{0};
};

Pipeline::Pipeline(store::Backend& backend, enrich::EnrichSources sources,
                   const StitchConfig& stitch, PipelineOptions options)
    : backend_(backend), sources_(sources), options_(std::move(options)) {
  unsigned n = options_.shards;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  // Sessions of records without log positions (no log configured) get ids from the wall
  // clock, 1000 per millisecond of downtime to spare, interleaved over the shards.
  const auto clock_ids = static_cast<std::uint64_t>(to_ms(wall_now())) * 1000;
  for (unsigned k = 0; k < n; ++k) {
    auto shard =
        std::make_unique<Shard>(k, std::max<std::size_t>(1, options_.queue_batches), sources_);
    shard->next_session_id = clock_ids + k;
    shards_.push_back(std::move(shard));
  }
  for (auto& shard : shards_)
    shard->stitcher = std::make_unique<session::Stitcher>(stitcher_config(stitch, shard->index));
  window_ms_ = stitch.window.count();
  // Seqs (and so session ids) above those of earlier runs and of stores written before the
  // log existed (whose ids were wall-clock ms x 1000).
  next_seq_ = (clock_ids >> 16) + 1;
}

Pipeline::~Pipeline() { stop(); }

session::StitcherConfig Pipeline::stitcher_config(const StitchConfig& c, std::size_t shard) const {
  session::StitcherConfig sc;
  sc.window = c.window;
  sc.max_open = std::max<std::size_t>(1, c.max_open / shards_.size());
  sc.first_session_id = shards_[shard]->next_session_id;
  sc.session_id_stride = shards_.size();
  return sc;
}

Result<void> Pipeline::start() {
  if (!options_.data_dir.empty()) {
    if (auto r = replay(); !r) return r.error();
    auto wal = FlowWal::open(options_.data_dir, options_.sync_interval, next_seq_,
                             options_.log_file_bytes);
    if (!wal) return wal.error();
    wal_ = std::move(*wal);
    remove_checkpoints_from(options_.data_dir, static_cast<std::uint32_t>(shards_.size()));
  }
  for (auto& shard : shards_) {
    {
      std::lock_guard lock(shard->mutex);
      shard->counters.running = true;
    }
    Shard* s = shard.get();
    shard->thread = std::thread([this, s] { run(*s); });
  }
  return {};
}

void Pipeline::stop() {
  closed_.store(true);
  bool joined = false;
  for (auto& shard : shards_) {
    if (!shard->thread.joinable()) continue;
    {
      std::lock_guard lock(shard->wake_mutex);
      shard->stop.store(true);
    }
    shard->wake.notify_all();
    shard->thread.join();
    joined = true;
  }
  space_cv_.notify_all();
  // Every session is stored; once the final checkpoints say it is durable, the log before the
  // current file is no longer needed (its rest replays into sessions the store's ids skip).
  if (joined && wal_) {
    bool all_final = true;
    for (const auto& shard : shards_) all_final = all_final && shard->low_seq.load() != 0;
    if (all_final) wal_->trim(wal_->next_seq());
  }
}

void Pipeline::set_stitch(const StitchConfig& stitch) {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    shard->pending_stitch = std::make_unique<StitchConfig>(stitch);
  }
}

void Pipeline::hand_over(unsigned worker, FlowBatch& batch) {
  if (batch.empty()) return;
  auto flows = std::make_shared<const FlowBatch>(std::move(batch));
  batch = FlowBatch();
  std::lock_guard lock(dispatch_mutex_);
  if (closed_.load()) return;  // stop() came first: REQUIRES says it cannot
  while (routers_.size() <= worker) {
    routers_.push_back(std::make_unique<session::ShardRouter>(shards_.size()));
  }
  session::ShardRouter& router = *routers_[worker];
  const std::int64_t watermark_start = router.watermark();
  router.split(*flows, wall_now(), shares_);
  std::uint64_t seq = 0;
  if (wal_) {
    auto logged = wal_->append(*flows, static_cast<std::uint16_t>(worker), watermark_start);
    if (logged) {
      seq = *logged;
    } else {
      // Stitched anyway; these flows are not durable (logged, counted).
      log_errors_.fetch_add(1);
      logger("server")->error("flow log append failed: {}", logged.error().message);
    }
  }
  if (seq == 0) seq = next_seq_++;
  for (std::size_t k = 0; k < shards_.size(); ++k) {
    Shard& shard = *shards_[k];
    Item item{flows, std::move(shares_[k]), seq, router.watermark()};
    // Every shard gets every seq (maybe no rows): its consumed seq then covers the whole log.
    while (!shard.queue.try_push(item)) {
      backpressure_waits_.fetch_add(1, std::memory_order_relaxed);
      std::unique_lock wait(space_mutex_);
      producer_waiting_.store(true);
      space_cv_.wait_for(wait, std::chrono::milliseconds(5));
      if (closed_.load()) return;
    }
    { std::lock_guard wake(shard.wake_mutex); }
    shard.wake.notify_one();
  }
}

void Pipeline::commit(Shard& shard, SessionBatch& sessions) {
  if (sessions.empty()) return;
  shard.enricher.enrich(sessions);
  Result<std::uint64_t> seq = [&] {
    std::lock_guard lock(store_mutex_);
    auto appended = backend_.append(sessions);
    if (appended) last_append_.store(*appended);
    return appended;
  }();
  std::lock_guard lock(shard.mutex);
  ++shard.counters.appends;
  shard.counters.enrich_group_hits = shard.enricher.stats().group_hits;
  shard.counters.enrich_geo_hits = shard.enricher.stats().geo_hits;
  if (seq) {
    shard.last_append = *seq;
    shard.counters.sessions += sessions.size();
    sessions_stored_.fetch_add(sessions.size());
  } else {
    ++shard.counters.store_errors;
    shard.counters.sessions_lost += sessions.size();
    logger("server")->error("store append failed, {} sessions lost: {}", sessions.size(),
                            seq.error().message);
  }
  sessions.clear();
}

// A checkpoint describes the shard after `consumed`: every session it closed before is
// appended (commit first) and must be durable before the file says so, else a crash would
// skip records of sessions the store lost. So it is taken now and written once the store's
// durable sequence reaches the last append.
void Pipeline::checkpoint(Shard& shard, bool final) {
  if (!wal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!shard.pending && (final || now - shard.last_checkpoint >= options_.checkpoint_interval)) {
    ShardCheckpoint c;
    c.shard = static_cast<std::uint32_t>(shard.index);
    c.shards = static_cast<std::uint32_t>(shards_.size());
    c.consumed = shard.consumed;
    {
      std::lock_guard lock(shard.mutex);
      shard.stitcher->open_sessions(c.open);
    }
    shard.pending = std::move(c);
    // Every session this shard closed is appended by now, by itself or by the start-up replay
    // (which appends for all shards): the store's last sequence covers them all.
    shard.pending_append = last_append_.load();
    shard.last_checkpoint = now;
  }
  if (!shard.pending) return;
  if (final) {
    // At stop the store's sync thread still runs; wait for it (bounded: a store that cannot
    // sync leaves the old checkpoint, and the next start replays a little more, no loss).
    const auto deadline = now + options_.sync_interval * 2 + std::chrono::seconds(1);
    while (backend_.durable_sequence() < shard.pending_append &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (backend_.durable_sequence() < shard.pending_append) return;
  const ShardCheckpoint& c = *shard.pending;
  if (auto r = write_checkpoint(options_.data_dir, c); !r) {
    logger("server")->warn("checkpoint of shard {}: {}", shard.index, r.error().message);
    shard.pending.reset();
    return;
  }
  checkpoints_.fetch_add(1);
  std::uint64_t low = c.consumed + 1;
  for (const session::OpenSession& s : c.open) low = std::min(low, s.first_position >> 16);
  shard.low_seq.store(low);
  shard.pending.reset();
  if (final) return;  // stop() trims once every shard wrote its final checkpoint
  // A log file can go once every shard's written checkpoint is past it: a replay then starts
  // at the lowest of them (Pipeline::replay), so the log stays about one stitch window long.
  std::uint64_t keep = std::numeric_limits<std::uint64_t>::max();
  for (const auto& other : shards_) {
    const std::uint64_t l = other->low_seq.load();
    if (l == 0) return;  // a shard without a checkpoint yet replays the whole log
    keep = std::min(keep, l);
  }
  wal_->trim(keep);
}

void Pipeline::run(Shard& shard) {
  SessionBatch sessions(kCommitRows);
  std::int64_t last_record_ms = 0;
  auto last_record_wall = std::chrono::steady_clock::now();
  auto last_commit = std::chrono::steady_clock::now();
  shard.last_checkpoint = last_commit;
  for (;;) {
    std::optional<Item> item = shard.queue.try_pop();
    const auto wall = std::chrono::steady_clock::now();
    if (item && producer_waiting_.exchange(false)) space_cv_.notify_all();
    {
      std::lock_guard lock(shard.mutex);
      if (shard.pending_stitch) {
        shard.stitcher->flush(sessions);
        shard.closed_before += shard.stitcher->stats().sessions;
        shard.next_session_id +=
            shard.stitcher->stats().sessions * std::max<std::size_t>(1, shards_.size());
        shard.stitcher = std::make_unique<session::Stitcher>(
            stitcher_config(*shard.pending_stitch, shard.index));
        window_ms_ = shard.pending_stitch->window.count();
        shard.pending_stitch.reset();
      }
      if (item) {
        if (!item->share.rows.empty()) {
          shard.stitcher->add(*item->flows, item->share.selection(log_position(item->seq, 0)),
                              sessions, wall_now());
          shard.counters.flows += item->share.rows.size();
        }
        // One stitcher over the whole stream would close what went idle by the batch's end.
        shard.stitcher->advance(time_from_ms(item->watermark_end), sessions);
        last_record_ms = std::max(last_record_ms, item->watermark_end);
        last_record_wall = wall;
        shard.consumed = item->seq;
      } else if (last_record_ms != 0 && wall - last_record_wall >= options_.idle_after) {
        shard.stitcher->advance(time_from_ms(last_record_ms) +
                                    std::chrono::duration_cast<DurationMs>(wall - last_record_wall),
                                sessions);
      }
    }
    // A checkpoint needs every closed session appended; one that is due commits early, so a
    // shard that is never idle (a steady feed) still checkpoints and the log is still trimmed.
    const bool checkpoint_due =
        wal_ && !shard.pending && wall - shard.last_checkpoint >= options_.checkpoint_interval;
    if (sessions.size() >= kCommitRows ||
        (!sessions.empty() && (checkpoint_due || wall - last_commit >= options_.commit_interval))) {
      commit(shard, sessions);
      last_commit = wall;
    }
    if (sessions.empty()) checkpoint(shard, false);
    if (!item) {
      if (shard.stop.load() && shard.queue.empty()) break;
      std::unique_lock lock(shard.wake_mutex);
      shard.wake.wait_for(lock, kPollEvery,
                          [&] { return !shard.queue.empty() || shard.stop.load(); });
    }
  }
  {
    std::lock_guard lock(shard.mutex);
    shard.stitcher->flush(sessions);
  }
  commit(shard, sessions);
  shard.pending.reset();
  shard.low_seq.store(0);
  checkpoint(shard, true);
  std::lock_guard lock(shard.mutex);
  shard.counters.running = false;
}

Result<void> Pipeline::replay() {
  auto log = logger("server");
  const std::filesystem::path& dir = options_.data_dir;
  std::vector<ShardCheckpoint> ckpts = read_checkpoints(dir);
  // Checkpoints of one run agree on the shard count; a mix (a crash while changing it) is not
  // trusted: every shard then replays the whole log, and the store's ids weed out duplicates.
  std::uint32_t old_shards = ckpts.empty() ? 0 : ckpts.front().shards;
  for (const ShardCheckpoint& c : ckpts) {
    if (c.shards != old_shards || c.shard >= old_shards) old_shards = 0;
  }
  if (old_shards == 0 || ckpts.size() != old_shards) ckpts.clear();
  // Key hash -> the first position of the open sessions with that hash. Two open keys that
  // share a hash (64 bits: about n^2 / 2^65 for n open sessions) keep the earlier position, so
  // a collision can replay rows the store already has (its ids skip whole sessions), never
  // drop rows of an open session.
  std::unordered_map<std::uint64_t, std::uint64_t> open;
  std::uint64_t start_seq = 0;
  if (!ckpts.empty()) {
    start_seq = std::numeric_limits<std::uint64_t>::max();
    for (const ShardCheckpoint& c : ckpts) {
      start_seq = std::min(start_seq, c.consumed + 1);
      for (const session::OpenSession& s : c.open) {
        auto [it, added] = open.emplace(s.key_hash, s.first_position);
        if (!added) it->second = std::min(it->second, s.first_position);
        start_seq = std::min(start_seq, s.first_position >> 16);
      }
    }
  }
  // Sessions of the replayed range that the store already has (appended before the crash).
  std::unordered_set<std::uint64_t> stored;
  store::ScanRequest request;
  request.columns = {FieldId::SessionId};
  request.predicates.push_back(store::ScanPredicate::between<FieldId::SessionId>(
      log_position(start_seq, 0), std::numeric_limits<std::uint64_t>::max()));
  auto scanned = backend_.scan(request, [&](const SessionBatch& b) {
    for (std::uint64_t id : b.values<FieldId::SessionId>()) stored.insert(id);
    return true;
  });
  if (!scanned) return scanned.error();

  std::vector<std::unique_ptr<session::ShardRouter>> routers;
  std::vector<session::ShardShare> shares;
  session::ShardShare kept;
  std::vector<std::uint32_t> keep_rows;
  SessionBatch sessions(kCommitRows);
  SessionBatch fresh(kCommitRows);
  std::uint64_t records = 0;
  std::uint64_t dropped_bytes = 0;
  std::uint64_t max_seq = 0;
  auto replayed = FlowWal::replay(
      dir,
      [&](FlowWal::Record& rec) {
        max_seq = std::max(max_seq, rec.seq);
        log_found_flows_ += rec.flows.size();
        if (rec.seq < start_seq) return;  // every shard is past it (trim lagged)
        ++records;
        while (routers.size() <= rec.worker) {
          routers.push_back(std::make_unique<session::ShardRouter>(shards_.size()));
        }
        session::ShardRouter& router = *routers[rec.worker];
        router.set_watermark(std::max(router.watermark(), rec.watermark));
        router.split(rec.flows, wall_now(), shares);
        const std::uint64_t base = log_position(rec.seq, 0);
        for (std::size_t k = 0; k < shards_.size(); ++k) {
          Shard& shard = *shards_[k];
          kept.rows.clear();
          kept.watermarks.clear();
          const session::ShardShare& share = shares[k];
          for (std::size_t i = 0; i < share.rows.size(); ++i) {
            const std::uint32_t row = share.rows[i];
            if (!ckpts.empty()) {
              const std::uint64_t h = session::session_shard_hash(rec.flows, row);
              const ShardCheckpoint& c = ckpts[session::ShardRouter::shard_of(h, old_shards)];
              if (rec.seq <= c.consumed) {
                // Consumed before the checkpoint: only the sessions it still held open.
                auto it = open.find(h);
                if (it == open.end() || base + row < it->second) continue;
              }
            }
            kept.rows.push_back(row);
            kept.watermarks.push_back(share.watermarks[i]);
          }
          replayed_flows_ += kept.rows.size();
          shard.stitcher->add(rec.flows, kept.selection(base), sessions, wall_now());
          shard.stitcher->advance(time_from_ms(router.watermark()), sessions);
          shard.consumed = rec.seq;
          keep_rows.clear();
          for (std::size_t r = 0; r < sessions.size(); ++r) {
            if (stored.count(sessions.get<FieldId::SessionId>(r)) != 0) {
              ++replayed_duplicates_;
              continue;
            }
            keep_rows.push_back(static_cast<std::uint32_t>(r));
          }
          store::append_rows(sessions, keep_rows, fresh);
          sessions.clear();
          if (fresh.size() >= kCommitRows) commit(shard, fresh);
        }
      },
      &dropped_bytes);
  if (!replayed) return replayed.error();
  if (!fresh.empty()) commit(*shards_[0], fresh);
  next_seq_ = std::max(next_seq_, max_seq + 1);
  if (records > 0 || dropped_bytes > 0) {
    log->info(
        "flow log: replayed {} records ({} flows) into {} shards, {} sessions already "
        "stored, {} bytes of torn tail dropped",
        records, replayed_flows_, shards_.size(), replayed_duplicates_, dropped_bytes);
  }
  return {};
}

PipelineStats Pipeline::stats() const {
  PipelineStats out;
  out.shards = static_cast<unsigned>(shards_.size());
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    const PipelineStats& c = shard->counters;
    const session::StitchStats& s = shard->stitcher->stats();
    out.flows += c.flows;
    out.sessions += c.sessions;
    out.appends += c.appends;
    out.store_errors += c.store_errors;
    out.sessions_lost += c.sessions_lost;
    out.enrich_group_hits += c.enrich_group_hits;
    out.enrich_geo_hits += c.enrich_geo_hits;
    out.running = out.running || c.running;
    out.open_sessions += shard->stitcher->open_sessions();
    out.sessions_closed += shard->closed_before + s.sessions;
    out.stitch_memory += shard->stitcher->memory_bytes();
    out.closed_capacity += s.closed_capacity;
    out.records_no_address += s.records_no_address;
    out.duplicates_dropped += s.duplicates_dropped;
    out.queued_batches += shard->queue.size();
  }
  out.window_ms = window_ms_.load();
  out.backpressure_waits = backpressure_waits_.load();
  out.log_errors = log_errors_.load();
  out.log_found_flows = log_found_flows_;
  out.replayed_flows = replayed_flows_;
  out.replayed_duplicates = replayed_duplicates_;
  out.checkpoints = checkpoints_.load();
  out.last_append = last_append_.load();
  if (wal_) {
    const FlowWalStats w = wal_->stats();
    out.log_records = w.records;
    out.log_bytes = w.bytes;
    out.log_disk_bytes = w.disk_bytes;
    out.log_files_deleted = w.files_deleted;
  }
  return out;
}

}  // namespace flowscope::server
