#pragma once
// Internal to flowscope_server: other modules use its public headers.
// FlowWal: the collector's raw-flow log, which makes flows durable at receipt (docs/serve.md
// "Durability"). Receive workers append each decoded batch as one record (one write(2)); a sync
// thread fdatasyncs every sync_interval (0: every append). At start the pipeline replays the
// log into its stitchers (server/pipeline.h), so a SIGKILL loses only what was not yet written,
// and a power loss at most the last sync interval, not the stitch window.
//
// Layout: DATADIR/flows/<first seq, 16 hex digits>.fwal, each
//   header  u64 magic "FSFLOWAL" | u32 version (1) | u32 0
//   records u32 payload size | u64 seq | u16 worker | i64 watermark | u64 XXH3 | payload
// The checksum covers size, seq, worker, watermark and payload. A payload is a FlowBatch:
//   u32 rows | u16 columns, each: u16 column index | u8 validity (0 all, 2 bitmap) | [words] |
//   values (fixed width: rows x width bytes; text: per row u32 length + bytes)
// Only columns with a present value are written. `seq` increases by one per record across
// files and restarts; a record's row r has log position seq << 16 | r (session ids, RowSelection).
// `watermark` is the receive worker's ShardRouter watermark before the batch, so a replay routes
// with the same watermarks as the live run did.
//
// Per-shard checkpoints (shard-K.ckpt) say up to which seq a shard consumed the log and which
// sessions it held open then; trim() deletes files every shard is past.
//
// Threads: append() from any thread (one mutex; callers that need the order of seqs to match
// another order hold their own lock around it); trim() from any thread; replay and the
// checkpoint functions before appends start or from the owning shard.

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"
#include "core/time.h"
#include "session/stitcher.h"

namespace flowscope::server {

// A log file's size after which appends go to a new file (trimming deletes whole files).
inline constexpr std::uint64_t kFlowWalFileBytes = 64ull << 20;

// Rows per record at most: positions keep the row in 16 bits.
inline constexpr std::size_t kMaxWalBatchRows = 65535;

inline std::uint64_t log_position(std::uint64_t seq, std::size_t row) { return (seq << 16) | row; }

struct FlowWalStats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t syncs = 0;
  std::uint64_t files_deleted = 0;
  std::uint64_t write_errors = 0;
  std::uint64_t disk_bytes = 0;  // the files kept now
};

class FlowWal {
 public:
  // Opens (creating) DIR/flows; appends go to a new file. Seqs continue above every record
  // found and above `min_seq`.
  static Result<std::unique_ptr<FlowWal>> open(const std::filesystem::path& data_dir,
                                               DurationMs sync_interval, std::uint64_t min_seq,
                                               std::uint64_t file_bytes = kFlowWalFileBytes);
  ~FlowWal();
  FlowWal(const FlowWal&) = delete;
  FlowWal& operator=(const FlowWal&) = delete;

  // Writes one record; returns its seq. REQUIRES: flows.size() <= kMaxWalBatchRows.
  Result<std::uint64_t> append(const FlowBatch& flows, std::uint16_t worker,
                               std::int64_t watermark);
  // Deletes the files whose records all have seq < `seq` (never the file being written).
  void trim(std::uint64_t seq);
  // fdatasyncs now.
  void sync();
  std::uint64_t next_seq() const;
  FlowWalStats stats() const;
  const std::filesystem::path& dir() const { return dir_; }

  struct Record {
    std::uint64_t seq = 0;
    std::uint16_t worker = 0;
    std::int64_t watermark = 0;
    FlowBatch flows;
  };
  // Calls `f` for every intact record of DIR/flows in seq order; a torn or damaged tail of a
  // file ends that file (its bytes counted in `dropped_bytes`). Returns records read.
  static Result<std::uint64_t> replay(const std::filesystem::path& data_dir,
                                      const std::function<void(Record&)>& f,
                                      std::uint64_t* dropped_bytes = nullptr);

 private:
  FlowWal() = default;
  Result<void> start_file();
  void sync_loop();

  std::filesystem::path dir_;
  DurationMs sync_interval_{};
  std::uint64_t rotate_bytes_ = kFlowWalFileBytes;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  int fd_ = -1;                                                         // guarded by mutex_
  std::uint64_t file_bytes_ = 0;                                        // guarded by mutex_
  std::uint64_t next_seq_ = 1;                                          // guarded by mutex_
  bool dirty_ = false;                                                  // guarded by mutex_
  bool stop_ = false;                                                   // guarded by mutex_
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> files_;  // guarded by mutex_
  std::uint64_t closed_bytes_ = 0;  // guarded by mutex_: bytes of files_ but the last
  FlowWalStats stats_;              // guarded by mutex_
  std::string buffer_;              // guarded by mutex_
  std::thread sync_thread_;
};

// What a shard had done when it wrote its checkpoint: it consumed every record up to `consumed`
// and held these sessions open (their flows are in records <= consumed; later records it has
// not seen). A replay gives a shard the rows of records <= consumed only for these sessions.
struct ShardCheckpoint {
  std::uint32_t shard = 0;
  std::uint32_t shards = 1;
  std::uint64_t consumed = 0;
  std::vector<session::OpenSession> open;
};

Result<void> write_checkpoint(const std::filesystem::path& data_dir, const ShardCheckpoint& c);
// Every readable checkpoint of DIR/flows (a damaged one is skipped and logged).
std::vector<ShardCheckpoint> read_checkpoints(const std::filesystem::path& data_dir);
// Removes the checkpoints of shards >= `shards` (after a change of the shard count, once the
// replay has used them).
void remove_checkpoints_from(const std::filesystem::path& data_dir, std::uint32_t shards);

}  // namespace flowscope::server
