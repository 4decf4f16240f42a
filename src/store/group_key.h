#pragma once
// The group key of a session row: the bytes that identify its group in aggregations (Backend's
// aggregate) and rollups, so that both group identically. Pure function; any thread.
// Internal to flowscope_store: other modules use its public headers.

#include <cstdint>
#include <span>
#include <string>

#include "core/record_batch.h"

namespace flowscope::store {

// Replaces `key` with each group_by value of `row` (a marker byte for an absent value, strings
// length-prefixed), then the time bucket.
void append_group_key(const SessionBatch& batch, std::size_t row, std::span<const FieldId> group_by,
                      std::int64_t bucket, std::string& key);

}  // namespace flowscope::store
