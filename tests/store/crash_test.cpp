// Crash test (docs/conventions.md "Tests", docs/storage.md "Flush and recovery"): a child
// process writes batches and reports, through a pipe, every batch that durable_sequence() says is
// synced; the parent SIGKILLs it at a random moment, reopens the store and checks that every
// acknowledged session is there exactly once and nothing is there twice. Rounds accumulate in one
// directory, so recovery also runs over the leftovers of earlier crashes (cut WAL tails, stray
// segments of interrupted flushes). FLOWSCOPE_CRASH_ROUNDS sets the number of rounds (default 20).
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "store/embedded_store.h"

#include "store_test_support.h"

namespace flowscope::store {
namespace {

constexpr std::uint64_t kBatchRows = 50;
constexpr std::int64_t kT0 = 1'764'000'000'000;

StoreOptions crash_options(const std::filesystem::path& dir) {
  StoreOptions o;
  o.dir = dir;
  o.sync_interval = std::chrono::milliseconds(2);
  o.flush_rows = 1500;  // frequent flushes, so kills land inside them too
  o.rollups = {{"by_port", {FieldId::SrvPort}}};
  return o;
}

[[noreturn]] void run_writer(const std::filesystem::path& dir, std::uint64_t first_batch,
                             int ack_fd) {
  auto store = EmbeddedStore::open(crash_options(dir));
  if (!store) _exit(2);
  std::map<std::uint64_t, std::uint64_t> seq_to_batch;  // appended, not yet acknowledged
  for (std::uint64_t batch = first_batch;; ++batch) {
    // Batches straddle hours so that flushes write several partitions.
    auto seq = (*store)->append(testing::make_sessions(
        batch * kBatchRows, kBatchRows, kT0 + static_cast<std::int64_t>(batch) * 60'000, 7));
    if (!seq) _exit(3);
    seq_to_batch[*seq] = batch;
    if (batch % 5 == 0 && !(*store)->sync()) _exit(4);
    const std::uint64_t durable = (*store)->durable_sequence();
    while (!seq_to_batch.empty() && seq_to_batch.begin()->first <= durable) {
      const std::uint64_t acked = seq_to_batch.begin()->second;
      if (::write(ack_fd, &acked, sizeof acked) != sizeof acked) _exit(5);
      seq_to_batch.erase(seq_to_batch.begin());
    }
  }
}

TEST(StoreCrash, EverySyncedRecordSurvivesSigkillExactlyOnce) {
  const char* env = std::getenv("FLOWSCOPE_CRASH_ROUNDS");
  const int rounds = env != nullptr ? std::atoi(env) : 20;
  testing::TempDir dir;
  std::mt19937 rng(20261124);
  std::set<std::uint64_t> acked_batches;
  std::uint64_t next_batch = 0;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::uint64_t first = next_batch;
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      run_writer(dir.path(), first, fds[1]);
    }
    ::close(fds[1]);
    // Kill after a random number of acknowledgements: the child is somewhere in an append, a
    // write, a sync or a flush by then.
    const int kill_after = std::uniform_int_distribution<int>(1, 60)(rng);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int acks = 0;
    bool eof = false;
    while (acks < kill_after && !eof && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      std::uint64_t batch = 0;
      const ssize_t n = ::read(fds[0], &batch, sizeof batch);
      if (n != static_cast<ssize_t>(sizeof batch)) {
        eof = true;
        break;
      }
      acked_batches.insert(batch);
      next_batch = std::max(next_batch, batch + 1);
      ++acks;
    }
    // Then let it run a random while longer (still collecting acknowledgements), so the kill
    // lands anywhere in its cycle rather than just after an acknowledgement.
    const auto kill_at =
        std::chrono::steady_clock::now() +
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 20000)(rng));
    while (!eof && std::chrono::steady_clock::now() < kill_at) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          kill_at - std::chrono::steady_clock::now());
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      std::uint64_t batch = 0;
      if (::read(fds[0], &batch, sizeof batch) != static_cast<ssize_t>(sizeof batch)) {
        eof = true;
        break;
      }
      acked_batches.insert(batch);
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    // Acknowledgements still in the pipe were made before the kill: they count too.
    std::uint64_t batch = 0;
    while (::read(fds[0], &batch, sizeof batch) == static_cast<ssize_t>(sizeof batch)) {
      acked_batches.insert(batch);
    }
    ::close(fds[0]);
    ASSERT_FALSE(eof) << "writer died on its own in round " << round << ", status " << status;
    ASSERT_EQ(acks, kill_after) << "no progress in round " << round;
    // Later rounds use fresh ids, above anything the killed writer may have appended
    // (it runs at most a few batches ahead of its acknowledgements).
    next_batch = first + 10000;

    auto o = crash_options(dir.path());
    o.read_only = true;
    auto store = EmbeddedStore::open(o);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    std::map<std::uint64_t, int> seen;
    ScanStats stats;
    auto r = (*store)->scan({}, [&](const SessionBatch& b) {
      for (std::size_t i = 0; i < b.size(); ++i) ++seen[b.get<FieldId::SessionId>(i)];
      return true;
    });
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->errors.empty()) << r->errors[0].message;
    for (const auto& [id, count] : seen)
      ASSERT_EQ(count, 1) << "session " << id << " round " << round;
    for (std::uint64_t b : acked_batches) {
      for (std::uint64_t i = 0; i < kBatchRows; ++i) {
        ASSERT_EQ(seen.count(b * kBatchRows + i), 1u)
            << "acknowledged session " << b * kBatchRows + i << " lost in round " << round;
      }
    }
  }
  EXPECT_GE(acked_batches.size(), static_cast<std::size_t>(rounds));
}

}  // namespace
}  // namespace flowscope::store
