#include "session/shard_router.h"

#include <algorithm>

namespace flowscope::session {

void ShardRouter::split(const FlowBatch& flows, TimeMs now, std::vector<ShardShare>& shares) {
  shares.resize(shards_);
  for (ShardShare& s : shares) {
    s.rows.clear();
    s.watermarks.clear();
  }
  const auto first = flows.values<FieldId::First>();
  const auto last = flows.values<FieldId::Last>();
  const std::int64_t now_ms = to_ms(now);
  for (std::size_t row = 0; row < flows.size(); ++row) {
    // The record time the Stitcher uses (last, else first, else now).
    const std::int64_t t = last[row] != 0 ? last[row] : (first[row] != 0 ? first[row] : now_ms);
    watermark_ = std::max(watermark_, t);
    ShardShare& share =
        shards_ == 1 ? shares[0] : shares[shard_of(session_shard_hash(flows, row), shards_)];
    share.rows.push_back(static_cast<std::uint32_t>(row));
    share.watermarks.push_back(watermark_);
  }
}

}  // namespace flowscope::session
