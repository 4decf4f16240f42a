// The sharded pipeline's raw-flow log (server/pipeline.h, docs/serve.md "Durability"): a
// process killed mid-feed and restarted stores the sessions one Stitcher over the whole feed
// makes, each once, replaying from the shards' checkpoints; and under a steady feed the log is
// trimmed behind the checkpoints instead of growing.
#include "server/pipeline.h"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "session/flow_builder.h"
#include "session/stitcher.h"
#include "store/embedded_store.h"
#include "store/store_test_support.h"

namespace flowscope::server {
namespace {

constexpr std::int64_t kT0 = 1'767'225'600'000;  // 2026-01-01
constexpr std::int64_t kBatchSpanMs = 100;       // record time per batch
constexpr std::size_t kRows = 1000;

// Batch `b` of a deterministic feed: clients of one /16 on reused ports talking to a few
// servers, both directions, record time advancing kBatchSpanMs per batch. Clients of one /16
// to one server are what made hash_key collide (session/stitcher.cpp).
FlowBatch feed_batch(int b) {
  FlowBatch flows;
  std::uint64_t seed = 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(b + 1);
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed >> 33;
  };
  for (std::size_t i = 0; i < kRows; ++i) {
    const std::int64_t t =
        kT0 + b * kBatchSpanMs + static_cast<std::int64_t>(i) * kBatchSpanMs / kRows;
    const auto client = fmt::format("10.0.{}.{}", next() % 8, next() % 250 + 1);
    const auto server = fmt::format("198.51.100.{}", next() % 3 + 1);
    const auto port = static_cast<std::uint16_t>(50000 + next() % 400);
    testing::FlowSpec f{client, port, server, 443};
    if (next() % 2 == 0) f = {server, 443, client, port};
    f.packets = next() % 10 + 1;
    f.bytes = f.packets * 100;
    f.first = t - static_cast<std::int64_t>(next() % 500);
    f.last = t;
    testing::add_flow(flows, f);
  }
  return flows;
}

using Row = std::tuple<IpAddress, std::uint16_t, IpAddress, std::uint16_t, std::uint64_t,
                       std::uint64_t, std::int64_t, std::int64_t>;

void collect(const SessionBatch& b, std::map<Row, int>& out) {
  for (std::size_t r = 0; r < b.size(); ++r) {
    ++out[{b.get<FieldId::ClnAddr>(r), b.get<FieldId::ClnPort>(r), b.get<FieldId::SrvAddr>(r),
           b.get<FieldId::SrvPort>(r), b.get<FieldId::ClnPackets>(r), b.get<FieldId::SrvPackets>(r),
           b.get<FieldId::StartTime>(r), b.get<FieldId::EndTime>(r)}];
  }
}

// What one Stitcher makes of batches [0, batches).
std::map<Row, int> reference(int batches, DurationMs window) {
  session::StitcherConfig config;
  config.window = window;
  session::Stitcher s(config);
  SessionBatch out;
  for (int b = 0; b < batches; ++b) s.add(feed_batch(b), out);
  s.flush(out);
  std::map<Row, int> rows;
  collect(out, rows);
  return rows;
}

store::StoreOptions store_options(const std::filesystem::path& dir) {
  store::StoreOptions o;
  o.dir = dir;
  o.sync_interval = std::chrono::milliseconds(5);
  o.use_dir_config = false;
  return o;
}

PipelineOptions pipeline_options(const std::filesystem::path& dir) {
  PipelineOptions o;
  o.shards = 2;
  o.data_dir = dir;
  o.commit_interval = std::chrono::milliseconds(10);
  o.sync_interval = std::chrono::milliseconds(5);
  o.checkpoint_interval = std::chrono::milliseconds(20);
  return o;
}

StitchConfig stitch_config(DurationMs window) {
  StitchConfig c;
  c.window = window;
  c.shards = 2;
  return c;
}

PipelineOptions paced(PipelineOptions o) {
  // The feed below is paced by the pipeline's progress, not by the clock: a slow machine (a
  // sanitizer build, a loaded CI) must not make a shard think its exporter went quiet.
  o.idle_after = std::chrono::hours(1);
  return o;
}

// Waits until the shards stitched `flows` records (every batch handed over so far), or a
// minute went by (then the test's own checks fail).
bool wait_stitched(Pipeline& p, std::uint64_t flows) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (p.stats().flows < flows) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Feeds batches [from, to), each once the shards stitched the one before (the pipeline counts
// the records of this run only: `before` are the records stitched when the feed began), with
// a short pause so that commits and checkpoints interleave with the feed.
void feed(Pipeline& p, int from, int to) {
  const std::uint64_t before = p.stats().flows;
  for (int b = from; b < to; ++b) {
    FlowBatch flows = feed_batch(b);
    p.hand_over(0, flows);
    wait_stitched(p, before + static_cast<std::uint64_t>(b - from + 1) * kRows);
    std::this_thread::sleep_for(std::chrono::milliseconds(8));
  }
}

constexpr DurationMs kWindow{1000};
constexpr int kBatches = 100;
constexpr int kKillFrom = 30;  // 3 s of record time: sessions of the first 2 s are stored

PipelineOptions crash_options(const std::filesystem::path& dir) {
  PipelineOptions o = paced(pipeline_options(dir));
  // Much longer than the commit interval, so that sessions are stored after the last
  // checkpoint too and the replay re-derives some the store has; and long enough that the
  // child's check of the files (slow under ThreadSanitizer on a loaded machine) ends before the
  // next checkpoint replaces them.
  o.checkpoint_interval = std::chrono::milliseconds(600);
  return o;
}

// Whether the store holds (durably) a session that the checkpoints on disk still call open:
// then a replay from those checkpoints re-derives it and must skip it (the case under test).
// Read from the files, not from counters: a checkpoint taken before and written after a
// counter was read (a sanitizer build widens that window) would otherwise cover every stored
// session, and the replay would find none to skip.
bool stored_session_open_at_checkpoint(const std::filesystem::path& dir,
                                       store::EmbeddedStore& store) {
  std::set<std::uint64_t> open;
  std::vector<std::uint64_t> consumed;
  for (const ShardCheckpoint& c : read_checkpoints(dir)) {
    consumed.push_back(c.consumed);
    for (const session::OpenSession& s : c.open) open.insert(s.first_position);
  }
  if (open.empty()) return false;
  bool found = false;
  store::ScanRequest request;
  request.columns = {FieldId::SessionId};
  auto scanned = store.scan(request, [&](const SessionBatch& b) {
    for (std::uint64_t id : b.values<FieldId::SessionId>()) found = found || open.count(id) != 0;
    return !found;
  });
  std::vector<std::uint64_t> consumed_after;  // no checkpoint was written meanwhile
  for (const ShardCheckpoint& c : read_checkpoints(dir)) consumed_after.push_back(c.consumed);
  return scanned && found && consumed_after == consumed;
}

// The child of the crash test: feeds batches from 0 on and, from kKillFrom on, dies without a
// stop (as SIGKILL would: what was written stays, nothing is flushed) once the checkpoints on
// disk hold a session open that the store has durably stored since (so that the replay
// re-derives sessions the store has). Writes the number of batches fed to `out` and kills itself
// with SIGKILL (_exit is not enough: ThreadSanitizer's _exit finalizes while the shard threads
// still run and write checkpoints), or exits with 255 when that never happened.
[[noreturn]] void run_until_killed(const std::filesystem::path& dir, int out) {
  auto store = store::EmbeddedStore::open(store_options(dir));
  if (!store) _exit(255);
  Pipeline p(**store, {}, stitch_config(kWindow), crash_options(dir));
  if (!p.start()) _exit(255);
  for (int b = 0; b < kBatches - 10; ++b) {
    feed(p, b, b + 1);
    if (b + 1 < kKillFrom || p.stats().checkpoints < 2) continue;  // two written
    // Between two batches the shards still commit (each commit interval) and checkpoint: watch
    // for a moment when everything appended is durable (a SIGKILL keeps only that) and a stored
    // session is open in the checkpoints on disk, with no append meanwhile.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::uint64_t appended = p.stats().last_append;
      if ((*store)->durable_sequence() >= appended &&
          stored_session_open_at_checkpoint(dir, **store) && p.stats().last_append == appended) {
        const int fed = b + 1;
        if (::write(out, &fed, sizeof fed) == static_cast<ssize_t>(sizeof fed)) {
          ::kill(::getpid(), SIGKILL);
        }
        _exit(255);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  _exit(255);
}

TEST(PipelineCrash, ReplayFromCheckpointsStoresEachSessionOnce) {
  store::testing::TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    run_until_killed(dir.path(), fds[1]);
  }
  ::close(fds[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  int fed = 0;
  const ssize_t got_fed = ::read(fds[0], &fed, sizeof fed);
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child did not store sessions and checkpoint";
  ASSERT_EQ(got_fed, static_cast<ssize_t>(sizeof fed));
  ASSERT_FALSE(read_checkpoints(dir.path()).empty());

  std::map<Row, int> got;
  {
    auto store = store::EmbeddedStore::open(store_options(dir.path()));
    ASSERT_TRUE(store) << store.error().message;
    Pipeline p(**store, {}, stitch_config(kWindow), crash_options(dir.path()));
    ASSERT_TRUE(p.start());
    const PipelineStats replay = p.stats();
    EXPECT_GT(replay.replayed_duplicates, 0u) << "no stored session was replayed";
    EXPECT_LT(replay.replayed_flows, replay.log_found_flows) << "the checkpoints were not used";
    feed(p, fed, kBatches);
    p.stop();
    store::ScanRequest all;
    ASSERT_TRUE((*store)->scan(all, [&](const SessionBatch& b) {
      collect(b, got);
      return true;
    }));
  }
  const std::map<Row, int> want = reference(kBatches, kWindow);
  int missing = 0;
  int extra = 0;
  for (const auto& [row, n] : want) {
    auto it = got.find(row);
    missing += std::max(0, n - (it == got.end() ? 0 : it->second));
  }
  for (const auto& [row, n] : got) {
    auto it = want.find(row);
    extra += std::max(0, n - (it == want.end() ? 0 : it->second));
  }
  std::size_t sessions = 0;
  for (const auto& [row, n] : want) sessions += static_cast<std::size_t>(n);
  EXPECT_EQ(missing, 0) << "of " << sessions << " sessions";
  EXPECT_EQ(extra, 0) << "of " << sessions << " sessions";
}

// A feed much longer than the window: files behind the checkpoints go, the bytes on disk
// level off, and a clean stop leaves the current file only.
TEST(PipelineLog, StaysBoundedUnderASteadyFeed) {
  store::testing::TempDir dir;
  auto store = store::EmbeddedStore::open(store_options(dir.path()));
  ASSERT_TRUE(store) << store.error().message;
  PipelineOptions options = paced(pipeline_options(dir.path()));
  options.log_file_bytes = 256 << 10;  // a batch is about 60 KiB
  constexpr DurationMs kShortWindow{500};
  Pipeline p(**store, {}, stitch_config(kShortWindow), options);
  ASSERT_TRUE(p.start());
  constexpr int kFeed = 200;  // 20 s of record time, 40 windows
  std::uint64_t peak_first_half = 0;
  std::uint64_t peak_second_half = 0;
  for (int b = 0; b < kFeed; ++b) {
    feed(p, b, b + 1);
    const std::uint64_t disk = p.stats().log_disk_bytes;
    (b < kFeed / 2 ? peak_first_half : peak_second_half) =
        std::max(b < kFeed / 2 ? peak_first_half : peak_second_half, disk);
  }
  // The trimming follows the checkpoints: let two more go by before measuring.
  const std::uint64_t checkpoints = p.stats().checkpoints;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (p.stats().checkpoints < checkpoints + 2 * options.shards &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const PipelineStats s = p.stats();
  EXPECT_GT(s.log_files_deleted, 0u);
  EXPECT_LT(s.log_disk_bytes, s.log_bytes / 4) << "written " << s.log_bytes;
  EXPECT_LE(peak_second_half, peak_first_half + 2 * options.log_file_bytes)
      << "the log kept growing";
  std::uint64_t on_disk = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path() / "flows")) {
    if (f.path().extension() == ".fwal") on_disk += f.file_size();
  }
  EXPECT_EQ(on_disk, s.log_disk_bytes);
  p.stop();
  std::size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path() / "flows")) {
    files += f.path().extension() == ".fwal" ? 1 : 0;
  }
  EXPECT_EQ(files, 1u);
  EXPECT_EQ(p.stats().sessions, p.stats().sessions_closed);
}

}  // namespace
}  // namespace flowscope::server
