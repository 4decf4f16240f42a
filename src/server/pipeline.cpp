#include "server/pipeline.h"

#include "core/log.h"

namespace flowscope::server {
namespace {

TimeMs wall_now() {
  return std::chrono::time_point_cast<DurationMs>(std::chrono::system_clock::now());
}

constexpr std::size_t kCommitRows = 8192;

}  // namespace

Pipeline::Pipeline(FlowQueue& queue, store::Backend& backend, enrich::EnrichSources sources,
                   const StitchConfig& stitch, DurationMs commit_interval)
    : queue_(queue), backend_(backend), enricher_(sources), commit_interval_(commit_interval) {
  // Session ids must not repeat across restarts of the daemon on the same store: start from the
  // wall clock in microseconds-like units (1000 ids per millisecond of downtime to spare).
  next_session_id_ = static_cast<std::uint64_t>(to_ms(wall_now())) * 1000;
  stitcher_ = std::make_unique<session::Stitcher>(stitcher_config(stitch));
  window_ms_ = stitch.window.count();
}

Pipeline::~Pipeline() { stop(); }

session::StitcherConfig Pipeline::stitcher_config(const StitchConfig& c) const {
  session::StitcherConfig sc;
  sc.window = c.window;
  sc.max_open = c.max_open;
  sc.first_session_id = next_session_id_;
  return sc;
}

void Pipeline::start() {
  {
    std::lock_guard lock(mutex_);
    counters_.running = true;
  }
  thread_ = std::thread([this] { run(); });
}

void Pipeline::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  queue_.close();
  thread_.join();
}

void Pipeline::set_stitch(const StitchConfig& stitch) {
  std::lock_guard lock(mutex_);
  pending_stitch_ = std::make_unique<StitchConfig>(stitch);
}

void Pipeline::commit(SessionBatch& sessions) {
  if (sessions.empty()) return;
  enricher_.enrich(sessions);
  auto seq = backend_.append(sessions);
  std::lock_guard lock(mutex_);
  ++counters_.appends;
  counters_.enrich_group_hits = enricher_.stats().group_hits;
  counters_.enrich_geo_hits = enricher_.stats().geo_hits;
  if (seq) {
    counters_.sessions += sessions.size();
    sessions_stored_.fetch_add(sessions.size());
  } else {
    ++counters_.store_errors;
    counters_.sessions_lost += sessions.size();
    logger("server")->error("store append failed, {} sessions lost: {}", sessions.size(),
                            seq.error().message);
  }
  sessions.clear();
}

void Pipeline::run() {
  SessionBatch sessions(kCommitRows);
  TimeMs last_record_time{};
  auto last_record_wall = std::chrono::steady_clock::now();
  auto last_commit = std::chrono::steady_clock::now();
  for (;;) {
    std::optional<FlowBatch> flows = queue_.pop_for(std::chrono::milliseconds(100));
    const auto wall = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      if (pending_stitch_) {
        stitcher_->flush(sessions);
        next_session_id_ += stitcher_->stats().sessions;
        closed_before_ += stitcher_->stats().sessions;
        stitcher_ = std::make_unique<session::Stitcher>(stitcher_config(*pending_stitch_));
        window_ms_ = pending_stitch_->window.count();
        pending_stitch_.reset();
      }
      if (flows) {
        stitcher_->add(*flows, sessions, wall_now());
        counters_.flows += flows->size();
        for (const std::int64_t t : flows->values<FieldId::Last>()) {
          if (t > to_ms(last_record_time)) last_record_time = time_from_ms(t);
        }
        last_record_wall = wall;
      } else if (last_record_time != TimeMs{}) {
        stitcher_->advance(
            last_record_time + std::chrono::duration_cast<DurationMs>(wall - last_record_wall),
            sessions);
      }
    }
    if (sessions.size() >= kCommitRows ||
        (!sessions.empty() && wall - last_commit >= commit_interval_)) {
      commit(sessions);
      last_commit = wall;
    }
    if (!flows && queue_.closed_and_empty()) break;
  }
  {
    std::lock_guard lock(mutex_);
    stitcher_->flush(sessions);
  }
  commit(sessions);
  std::lock_guard lock(mutex_);
  counters_.running = false;
}

PipelineStats Pipeline::stats() const {
  std::lock_guard lock(mutex_);
  PipelineStats out = counters_;
  const session::StitchStats& s = stitcher_->stats();
  out.open_sessions = stitcher_->open_sessions();
  out.sessions_closed = closed_before_ + s.sessions;
  out.stitch_memory = stitcher_->memory_bytes();
  out.window_ms = window_ms_;
  out.closed_capacity = s.closed_capacity;
  out.records_no_address = s.records_no_address;
  out.duplicates_dropped = s.duplicates_dropped;
  return out;
}

}  // namespace flowscope::server
