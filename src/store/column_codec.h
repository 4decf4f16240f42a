#pragma once
// Internal to flowscope_store: other modules use its public headers.
// Column chunks: one column of one block (up to a few thousand rows) turned into bytes and back
// (docs/storage.md "Column chunks"). Segments and WAL records are made of these.
//
// A chunk is [u8 codec][u32 raw size][payload]; the payload, once decompressed (LZ4 or zstd),
// is [u8 encoding][u8 validity][validity bitmap?][values]. Encodings, chosen per chunk by
// size: frame-of-reference and delta bit packing for integers and times, dictionary for strings
// and low-cardinality addresses, byte-split plain for addresses and countries (byte planes
// compress well: IPv4 addresses are v4-mapped, 10 equal bytes), raw plain for the WAL's fast path.
//
// Callers verify the chunk's checksum before decode_column (segment footer, WAL record), so a
// decode error here means a format bug or a checksum collision; it is still reported, never
// mis-read. Pure functions: any thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/record_batch.h"
#include "core/result.h"
#include "store/format.h"

namespace flowscope::store {

enum class Codec : std::uint8_t { None = 0, Lz4 = 1, Zstd = 2 };
enum class Encoding : std::uint8_t {
  Plain = 0,             // values as in memory, little-endian (WAL)
  ByteSplit = 1,         // byte k of every value, then byte k+1, ...
  FrameOfReference = 2,  // u64 base, u8 width, (value - base) bit-packed
  Delta = 3,             // u64 first, u8 width, zigzag(value[i] - value[i-1]) bit-packed
  Dictionary = 4,        // u32 entries, the entries, u8 width, entry ids bit-packed
};
enum class Validity : std::uint8_t { All = 0, None = 1, Bitmap = 2 };

// Minimum and maximum of a chunk's present values; absent when it has none or for strings.
struct ZoneMap {
  bool present = false;
  OrderKey min;
  OrderKey max;
};

struct ChunkOptions {
  Codec codec = Codec::Zstd;
  int zstd_level = 1;
  // Only raw plain encoding (no analysis, no zone map), for the WAL: ingest speed over size.
  bool fast = false;
};

struct EncodedChunk {
  std::string bytes;
  ZoneMap zone;
  Encoding encoding = Encoding::Plain;
  std::string bloom;  // address columns in segments: the block's address index (see below)
};

// The address index of a block (docs/storage.md "Address index"): a Bloom filter of the
// distinct present addresses, 8 bits per address rounded up to a power of two, 3 probes, hashed
// with XXH3 of the 16 bytes so the format does not depend on in-memory hashing. A host lookup
// skips a block whose filter says "absent" (false positives ~3%, no false negatives).
std::string build_address_bloom(std::span<const IpAddress> values,
                                std::span<const std::uint64_t> validity);
bool bloom_may_contain(std::span<const std::byte> bloom, const IpAddress& address);

// Encodes rows [begin, begin + rows) of `col`. REQUIRES: begin % 64 == 0 (block boundaries),
// begin + rows <= the batch's size.
EncodedChunk encode_column(const Column& col, std::size_t begin, std::size_t rows,
                           const ChunkOptions& options);

// Decodes a chunk of `rows` rows into rows [0, rows) of `out`, whose batch already has at least
// `rows` rows, all absent (a cleared batch grown with add_rows). `type` is the stored type.
Result<void> decode_column(std::span<const std::byte> chunk, std::size_t rows, FieldType type,
                           Column& out);

std::string_view encoding_name(Encoding e);

}  // namespace flowscope::store
