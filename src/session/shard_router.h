#pragma once
// ShardRouter: splits batches of one-way flow records over N shards, each with a Stitcher of its
// own (docs/conventions.md "Threads": shard by flow hash, no hot-path locks). A record goes to the
// shard of its normalized key's hash (session_shard_hash), so both directions of a session meet in
// one shard. Every routed row also gets the running record-time watermark of the router's stream
// (RowSelection::watermarks): with it, N shards close idle sessions exactly where one Stitcher
// over the same stream would, and stitch the same sessions (tests/session/shard_router_test).
//
// Not thread-safe: one router per producer (a receive worker, a replay). Cheap: one hash and
// two appends per record; the shares' vectors keep their capacity between splits.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/record_batch.h"
#include "core/time.h"
#include "session/stitcher.h"

namespace flowscope::session {

// One shard's rows of a batch.
struct ShardShare {
  std::vector<std::uint32_t> rows;
  std::vector<std::int64_t> watermarks;

  RowSelection selection(std::uint64_t position_base = 0) const {
    return {rows, watermarks, position_base};
  }
};

class ShardRouter {
 public:
  // REQUIRES: shards >= 1.
  explicit ShardRouter(std::size_t shards) : shards_(shards) {}

  // The shard of a normalized key's hash (its high bits: the Stitcher's index uses the low).
  static std::size_t shard_of(std::uint64_t key_hash, std::size_t shards) {
    return static_cast<std::size_t>(((key_hash >> 32) * shards) >> 32);
  }

  // Clears `shares` (resized to the shard count) and fills them with the rows of `flows`.
  // `now` stands in for the record time of rows without one, as in Stitcher::add.
  void split(const FlowBatch& flows, TimeMs now, std::vector<ShardShare>& shares);

  std::size_t shards() const { return shards_; }
  // The running watermark (ms): the largest record time routed so far.
  std::int64_t watermark() const { return watermark_; }
  // For a replay that starts where a logged batch started.
  void set_watermark(std::int64_t ms) { watermark_ = ms; }

 private:
  std::size_t shards_;
  std::int64_t watermark_ = 0;
};

}  // namespace flowscope::session
