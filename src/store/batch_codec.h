#pragma once
// Whole session batches as bytes (the payload of a WAL record) and row gathering between
// batches (flushes regroup rows by partition; scans copy the rows a predicate selects).
// Pure functions on values the caller owns: any thread.

#include <cstdint>
#include <span>
#include <string>

#include "core/record_batch.h"
#include "core/result.h"
#include "store/column_codec.h"

namespace flowscope::store {

// [u32 rows][u16 columns] then per column [name][u8 type][u32 size][chunk], every stored session
// field of the registry. Columns are named so that a WAL outlives registry changes.
std::string encode_batch(const SessionBatch& batch, const ChunkOptions& options);
Result<SessionBatch> decode_batch(std::span<const std::byte> payload);

// Appends rows `rows` of `src` to `dst`: values and validity of `fields` (every stored field
// when empty); the other columns of the new rows are absent.
void append_rows(const SessionBatch& src, std::span<const std::uint32_t> rows, SessionBatch& dst,
                 std::span<const FieldId> fields = {});
// Appends all rows of `src` to `dst`.
void append_all(const SessionBatch& src, SessionBatch& dst);

}  // namespace flowscope::store
