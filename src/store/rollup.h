#pragma once
// Rollups (docs/storage.md "Rollups"): sessions grouped by a view's key fields and a time bucket
// (1 minute, 1 hour, 1 day of start_time), summing client/server bytes and packets and counting
// sessions into the `sessions` field. Rows that are rollups already count as their `sessions`,
// so rolling up rollups (merging, a coarser level) keeps every sum exact.
// Pure function: any thread.

#include <cstdint>
#include <span>

#include "core/record_batch.h"

namespace flowscope::store {

// The fields a rollup row sums.
inline constexpr FieldId kRollupSums[] = {FieldId::ClnBytes, FieldId::SrvBytes, FieldId::ClnPackets,
                                          FieldId::SrvPackets};

// Groups the rows of `rows` by `keys` and floor(start_time / bucket_ms); the result holds the
// keys, start_time = the bucket, end_time = the bucket's end, the sums and `sessions`.
// REQUIRES: bucket_ms > 0.
SessionBatch rollup_rows(const SessionBatch& rows, std::span<const FieldId> keys,
                         std::int64_t bucket_ms);
// The same over several batches at once (the groups they share merged).
SessionBatch rollup_batches(std::span<const SessionBatch* const> parts,
                            std::span<const FieldId> keys, std::int64_t bucket_ms);

}  // namespace flowscope::store
