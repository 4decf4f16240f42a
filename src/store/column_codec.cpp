#include "store/column_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <lz4.h>
#include <zstd.h>

#include "core/byte_reader.h"

namespace flowscope::store {
namespace {

// Bit packing keeps every value within one unaligned 8-byte word (shift < 8 plus width), so
// widths over 56 bits fall back to byte-split plain.
constexpr unsigned kMaxPackedWidth = 56;
// Packed buffers carry 8 zero bytes of slack so that every 8-byte load stays inside them.
constexpr std::size_t kPackSlack = 8;

std::size_t packed_size(std::size_t n, unsigned width) { return (n * width + 7) / 8 + kPackSlack; }

// Packs groups of 8 values into exactly W bytes with constant shifts (the mirror of
// unpack_fixed below). REQUIRES: `base` has packed_size(n, W) zeroed bytes.
template <unsigned W>
void pack_fixed(const std::uint64_t* values, std::size_t n, char* base) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8, base += W) {
    for (unsigned j = 0; j < 8; ++j) {
      std::uint64_t word;
      std::memcpy(&word, base + (j * W) / 8, 8);
      word |= values[i + j] << ((j * W) % 8);
      std::memcpy(base + (j * W) / 8, &word, 8);
    }
  }
  for (unsigned j = 0; i < n; ++i, ++j) {
    std::uint64_t word;
    std::memcpy(&word, base + (j * W) / 8, 8);
    word |= values[i] << ((j * W) % 8);
    std::memcpy(base + (j * W) / 8, &word, 8);
  }
}

using PackFn = void (*)(const std::uint64_t*, std::size_t, char*);
template <std::size_t... Ws>
constexpr std::array<PackFn, sizeof...(Ws)> make_packers(std::index_sequence<Ws...>) {
  return {&pack_fixed<static_cast<unsigned>(Ws == 0 ? 1 : Ws)>...};
}
constexpr auto kPackers = make_packers(std::make_index_sequence<kMaxPackedWidth + 1>{});

// REQUIRES: every value fits `width` bits, width <= kMaxPackedWidth.
void pack_bits(std::span<const std::uint64_t> values, unsigned width, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + packed_size(values.size(), width), '\0');
  if (width == 0) return;
  kPackers[width](values.data(), values.size(), out.data() + start);
}

// Unpacks groups of 8 values, which take exactly W bytes, so every shift is a constant and the
// compiler unrolls the group. REQUIRES: `packed` holds packed_size(n, W) bytes.
template <unsigned W>
void unpack_fixed(const std::byte* packed, std::size_t n, std::uint64_t* out) {
  constexpr std::uint64_t kMask = (std::uint64_t{1} << W) - 1;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8, packed += W) {
    for (unsigned j = 0; j < 8; ++j) {
      std::uint64_t word;
      std::memcpy(&word, packed + (j * W) / 8, 8);
      out[i + j] = (word >> ((j * W) % 8)) & kMask;
    }
  }
  for (unsigned j = 0; i < n; ++i, ++j) {
    std::uint64_t word;
    std::memcpy(&word, packed + (j * W) / 8, 8);
    out[i] = (word >> ((j * W) % 8)) & kMask;
  }
}

using UnpackFn = void (*)(const std::byte*, std::size_t, std::uint64_t*);
template <std::size_t... Ws>
constexpr std::array<UnpackFn, sizeof...(Ws)> make_unpackers(std::index_sequence<Ws...>) {
  return {&unpack_fixed<static_cast<unsigned>(Ws == 0 ? 1 : Ws)>...};
}
constexpr auto kUnpackers = make_unpackers(std::make_index_sequence<kMaxPackedWidth + 1>{});

// REQUIRES: `packed` holds packed_size(n, width) bytes (checked by the caller), width <=
// kMaxPackedWidth.
void unpack_bits(const std::byte* packed, std::size_t n, unsigned width, std::uint64_t* out) {
  if (width == 0) {
    std::fill_n(out, n, 0);
    return;
  }
  kUnpackers[width](packed, n, out);
}

unsigned bits_for(std::uint64_t max_value) {
  return static_cast<unsigned>(std::bit_width(max_value));
}

// Integer-like values as order-preserving u64 (format.h OrderKey::lo) and back.
template <typename T>
std::uint64_t to_u64(T v) {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    return static_cast<std::uint64_t>(v) ^ kSignFlip;
  } else {
    return static_cast<std::uint64_t>(v);
  }
}
template <typename T>
T from_u64(std::uint64_t v) {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    return static_cast<std::int64_t>(v ^ kSignFlip);
  } else {
    return static_cast<T>(v);
  }
}

template <typename T>
constexpr bool kIsInteger = std::is_integral_v<T>;

void put_byte_split(const std::byte* values, std::size_t n, std::size_t width, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + n * width);
  char* dst = out.data() + start;
  for (std::size_t b = 0; b < width; ++b) {
    for (std::size_t i = 0; i < n; ++i) dst[b * n + i] = static_cast<char>(values[i * width + b]);
  }
}

void get_byte_split(const std::byte* src, std::size_t n, std::size_t width, std::byte* values) {
  for (std::size_t b = 0; b < width; ++b) {
    for (std::size_t i = 0; i < n; ++i) values[i * width + b] = src[b * n + i];
  }
}

// Chooses and writes the encoding of integer values (already order-preserving u64).
Encoding encode_integers(std::span<const std::uint64_t> u, std::size_t width, std::string& out) {
  ByteWriter w(out);
  std::uint64_t lo = ~std::uint64_t{0}, hi = 0, zz_max = 0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    lo = std::min(lo, u[i]);
    hi = std::max(hi, u[i]);
    if (i > 0) {
      const std::uint64_t d = u[i] - u[i - 1];
      const std::uint64_t zz =
          (d << 1) ^ static_cast<std::uint64_t>(static_cast<std::int64_t>(d) >> 63);
      zz_max = std::max(zz_max, zz);
    }
  }
  const unsigned for_width = bits_for(hi - lo);
  const unsigned delta_width = bits_for(zz_max);
  const std::size_t plain_bytes = u.size() * width;
  const std::size_t best_packed = packed_size(u.size(), std::min(for_width, delta_width)) + 9;
  if (std::min(for_width, delta_width) > kMaxPackedWidth || plain_bytes <= best_packed) {
    std::vector<std::byte> raw(plain_bytes);
    for (std::size_t i = 0; i < u.size(); ++i) std::memcpy(&raw[i * width], &u[i], width);
    put_byte_split(raw.data(), u.size(), width, out);
    return Encoding::ByteSplit;
  }
  if (for_width <= delta_width) {
    w.u64(lo);
    w.u8(static_cast<std::uint8_t>(for_width));
    std::vector<std::uint64_t> rel(u.size());
    for (std::size_t i = 0; i < u.size(); ++i) rel[i] = u[i] - lo;
    pack_bits(rel, for_width, out);
    return Encoding::FrameOfReference;
  }
  w.u64(u.empty() ? 0 : u[0]);
  w.u8(static_cast<std::uint8_t>(delta_width));
  std::vector<std::uint64_t> zz(u.size() > 0 ? u.size() - 1 : 0);
  for (std::size_t i = 1; i < u.size(); ++i) {
    const std::uint64_t d = u[i] - u[i - 1];
    zz[i - 1] = (d << 1) ^ static_cast<std::uint64_t>(static_cast<std::int64_t>(d) >> 63);
  }
  pack_bits(zz, delta_width, out);
  return Encoding::Delta;
}

Result<void> decode_integers(ByteReader& r, Encoding enc, std::size_t n, std::size_t width,
                             std::uint64_t* u) {
  switch (enc) {
    case Encoding::Plain:
    case Encoding::ByteSplit: {
      auto src = r.bytes(n * width);
      if (r.failed()) break;
      std::vector<std::byte> raw(n * width);
      if (enc == Encoding::Plain) {
        std::memcpy(raw.data(), src.data(), raw.size());
      } else {
        get_byte_split(src.data(), n, width, raw.data());
      }
      for (std::size_t i = 0; i < n; ++i) {
        u[i] = 0;
        std::memcpy(&u[i], &raw[i * width], width);
      }
      return ok();
    }
    case Encoding::FrameOfReference:
    case Encoding::Delta: {
      const std::uint64_t base = r.u64le();
      const unsigned width_bits = r.u8();
      if (r.failed() || width_bits > kMaxPackedWidth) break;
      const std::size_t count = enc == Encoding::Delta ? (n > 0 ? n - 1 : 0) : n;
      auto packed = r.bytes(packed_size(count, width_bits));
      if (r.failed()) break;
      if (enc == Encoding::FrameOfReference) {
        unpack_bits(packed.data(), n, width_bits, u);
        for (std::size_t i = 0; i < n; ++i) u[i] += base;
      } else if (n > 0) {
        unpack_bits(packed.data(), count, width_bits, u + 1);
        u[0] = base;
        for (std::size_t i = 1; i < n; ++i) {
          const std::uint64_t d = (u[i] >> 1) ^ (~(u[i] & 1) + 1);
          u[i] = u[i - 1] + d;
        }
      }
      return ok();
    }
    case Encoding::Dictionary: break;
  }
  return Error{
      ErrorCode::Corruption,
      fmt::format("integer chunk with encoding {} is truncated or invalid", static_cast<int>(enc))};
}

// Dictionary of distinct values (strings or addresses) in first-seen order.
template <typename Key, typename Hash>
struct DictBuilder {
  std::unordered_map<Key, std::uint32_t, Hash> ids;
  std::vector<Key> entries;
  std::vector<std::uint64_t> row_ids;
  void add(const Key& k) {
    auto [it, inserted] = ids.try_emplace(k, static_cast<std::uint32_t>(entries.size()));
    if (inserted) entries.push_back(k);
    row_ids.push_back(it->second);
  }
};

// The chunk's payload decompressed: the chunk's own bytes when stored uncompressed, else
// `scratch` (reused by the caller across chunks, so a scan allocates nothing per chunk).
Result<std::span<const std::byte>> decompress(ByteReader& r, std::string& scratch) {
  const auto codec = static_cast<Codec>(r.u8());
  const std::uint32_t raw_size = r.u32le();
  if (r.failed()) return Error{ErrorCode::Corruption, "chunk header is truncated"};
  auto payload = r.rest();
  switch (codec) {
    case Codec::None:
      if (payload.size() != raw_size) break;
      return payload;
    case Codec::Lz4: {
      if (scratch.size() < raw_size) scratch.resize(raw_size);
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(payload.data()), scratch.data(),
                                  static_cast<int>(payload.size()), static_cast<int>(raw_size));
      if (n != static_cast<int>(raw_size)) break;
      return std::span<const std::byte>(reinterpret_cast<const std::byte*>(scratch.data()),
                                        raw_size);
    }
    case Codec::Zstd: {
      if (scratch.size() < raw_size) scratch.resize(raw_size);
      std::size_t n = ZSTD_decompress(scratch.data(), raw_size, payload.data(), payload.size());
      if (ZSTD_isError(n) || n != raw_size) break;
      return std::span<const std::byte>(reinterpret_cast<const std::byte*>(scratch.data()),
                                        raw_size);
    }
  }
  return Error{ErrorCode::Corruption, fmt::format("chunk does not decompress (codec {}, {} bytes)",
                                                  static_cast<int>(codec), payload.size())};
}

// Bit-packed high-entropy columns (ports, random counters) hardly compress; storing them
// uncompressed costs under 1/32 more space and saves a decompression on every scan.
bool saves_little(std::size_t raw_size, std::size_t compressed) {
  return compressed + raw_size / 32 >= raw_size;
}

void compress(const std::string& raw, const ChunkOptions& opt, std::string& out) {
  ByteWriter w(out);
  std::size_t header = out.size();
  w.u8(static_cast<std::uint8_t>(opt.codec));
  w.u32(static_cast<std::uint32_t>(raw.size()));
  switch (opt.codec) {
    case Codec::None: out += raw; return;
    case Codec::Lz4: {
      const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
      std::size_t start = out.size();
      out.resize(start + static_cast<std::size_t>(bound));
      int n =
          LZ4_compress_default(raw.data(), out.data() + start, static_cast<int>(raw.size()), bound);
      if (n <= 0 || saves_little(raw.size(), static_cast<std::size_t>(n))) {
        out.resize(header);
        compress(raw, ChunkOptions{Codec::None, 0, opt.fast}, out);
        return;
      }
      out.resize(start + static_cast<std::size_t>(n));
      return;
    }
    case Codec::Zstd: {
      std::size_t start = out.size();
      out.resize(start + ZSTD_compressBound(raw.size()));
      std::size_t n = ZSTD_compress(out.data() + start, out.size() - start, raw.data(), raw.size(),
                                    opt.zstd_level);
      // An error cannot happen with a bound-sized buffer; either way, store uncompressed.
      if (ZSTD_isError(n) || saves_little(raw.size(), n)) {
        out.resize(header);
        compress(raw, ChunkOptions{Codec::None, 0, opt.fast}, out);
        return;
      }
      out.resize(start + n);
      return;
    }
  }
}

}  // namespace

namespace {

constexpr int kBloomProbes = 3;

std::uint64_t address_hash(const IpAddress& a) {
  return checksum(std::span(reinterpret_cast<const std::byte*>(a.bytes().data()), 16));
}

// Probe i of a hash: double hashing over a power-of-two bit count.
std::size_t bloom_bit(std::uint64_t h, int i, std::size_t bits) {
  return static_cast<std::size_t>((h + static_cast<std::uint64_t>(i) * ((h >> 32) | 1)) &
                                  (bits - 1));
}

}  // namespace

std::string build_address_bloom(std::span<const IpAddress> values,
                                std::span<const std::uint64_t> validity) {
  thread_local std::vector<std::uint64_t> hashes;
  hashes.clear();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if ((validity[i / 64] >> (i % 64)) & 1u) hashes.push_back(address_hash(values[i]));
  }
  if (hashes.empty()) return {};
  // The filter is sized by the number of distinct addresses, estimated by linear counting
  // (Whang et al. 1990) over a bitmap of at least as many bits as values: one pass instead of
  // a sort. Adding a repeated address to the filter changes nothing.
  const std::size_t m = std::max<std::size_t>(64, std::bit_ceil(hashes.size()));
  thread_local std::vector<std::uint64_t> seen;
  seen.assign(m / 64, 0);
  for (std::uint64_t h : hashes) seen[(h >> 7) % m / 64] |= std::uint64_t{1} << ((h >> 7) % 64);
  std::size_t zeros = 0;
  for (std::uint64_t w : seen) zeros += static_cast<std::size_t>(std::popcount(~w));
  const double distinct = zeros == 0 ? double(hashes.size())
                                     : std::min(double(hashes.size()),
                                                -double(m) * std::log(double(zeros) / double(m)));
  const std::size_t bits =
      std::max<std::size_t>(64, std::bit_ceil(static_cast<std::size_t>(distinct + 0.5) * 8));
  std::string bloom(bits / 8, '\0');
  for (std::uint64_t h : hashes) {
    for (int i = 0; i < kBloomProbes; ++i) {
      const std::size_t bit = bloom_bit(h, i, bits);
      bloom[bit / 8] = static_cast<char>(bloom[bit / 8] | (1 << (bit % 8)));
    }
  }
  return bloom;
}

bool bloom_may_contain(std::span<const std::byte> bloom, const IpAddress& address) {
  const std::size_t bits = bloom.size() * 8;
  if (bits == 0 || !std::has_single_bit(bits)) return true;  // no index: cannot rule out
  const std::uint64_t h = address_hash(address);
  for (int i = 0; i < kBloomProbes; ++i) {
    const std::size_t bit = bloom_bit(h, i, bits);
    if (!((static_cast<unsigned>(bloom[bit / 8]) >> (bit % 8)) & 1u)) return false;
  }
  return true;
}

std::string_view encoding_name(Encoding e) {
  switch (e) {
    case Encoding::Plain: return "plain";
    case Encoding::ByteSplit: return "byte-split";
    case Encoding::FrameOfReference: return "for";
    case Encoding::Delta: return "delta";
    case Encoding::Dictionary: return "dictionary";
  }
  return "?";
}

EncodedChunk encode_column(const Column& col, std::size_t begin, std::size_t rows,
                           const ChunkOptions& opt) {
  EncodedChunk result;
  std::string raw;
  ByteWriter w(raw);
  w.u8(0);  // encoding, patched below

  // Validity: rows start on a word boundary (REQUIRES), so words copy as they are.
  const auto words = col.validity_words().subspan(begin / 64, (rows + 63) / 64);
  std::vector<std::uint64_t> bits(words.begin(), words.end());
  if (rows % 64 != 0 && !bits.empty()) bits.back() &= (std::uint64_t{1} << (rows % 64)) - 1;
  std::size_t valid = 0;
  for (std::uint64_t b : bits) valid += static_cast<std::size_t>(std::popcount(b));
  const Validity validity =
      valid == rows ? Validity::All : (valid == 0 ? Validity::None : Validity::Bitmap);
  w.u8(static_cast<std::uint8_t>(validity));
  if (validity == Validity::Bitmap) w.bytes(bits.data(), bits.size() * 8);
  auto is_valid = [&](std::size_t i) { return (bits[i / 64] >> (i % 64)) & 1u; };

  Encoding enc = Encoding::Plain;
  if (validity != Validity::None) {
    std::visit(
        [&](const auto& data) {
          using D = std::decay_t<decltype(data)>;
          if constexpr (std::is_same_v<D, StringColumn>) {
            DictBuilder<std::string_view, std::hash<std::string_view>> dict;
            for (std::size_t i = 0; i < rows; ++i) dict.add(data.get(begin + i));
            w.u32(static_cast<std::uint32_t>(dict.entries.size()));
            for (std::string_view s : dict.entries) {
              w.u32(static_cast<std::uint32_t>(s.size()));
              w.bytes(s.data(), s.size());
            }
            const unsigned width = bits_for(dict.entries.size());
            w.u8(static_cast<std::uint8_t>(width));
            pack_bits(dict.row_ids, width, raw);
            enc = Encoding::Dictionary;
          } else {
            using T = typename D::value_type;
            const T* values = data.data() + begin;
            ZoneMap& z = result.zone;
            // The WAL (fast) keeps no zone maps: only segments are scanned by block.
            for (std::size_t i = 0; i < rows && !opt.fast; ++i) {
              if (!is_valid(i)) continue;
              const OrderKey k = order_key(values[i]);
              if (!z.present || k < z.min) z.min = k;
              if (!z.present || z.max < k) z.max = k;
              z.present = true;
            }
            if (opt.fast) {
              w.bytes(values, rows * sizeof(T));
              enc = Encoding::Plain;
            } else if constexpr (kIsInteger<T>) {
              std::vector<std::uint64_t> u(rows);
              for (std::size_t i = 0; i < rows; ++i) u[i] = to_u64(values[i]);
              enc = encode_integers(u, sizeof(T), raw);
            } else if constexpr (std::is_same_v<T, IpAddress>) {
              result.bloom = build_address_bloom(std::span(values, rows), bits);
              // A dictionary pays when addresses repeat a lot (exporters, next hops); give up
              // building it as soon as it cannot.
              DictBuilder<IpAddress, IpAddressHash> dict;
              const std::size_t max_entries = rows / 4;
              for (std::size_t i = 0; i < rows && dict.entries.size() <= max_entries; ++i) {
                dict.add(values[i]);
              }
              if (dict.entries.size() <= max_entries) {
                w.u32(static_cast<std::uint32_t>(dict.entries.size()));
                put_byte_split(reinterpret_cast<const std::byte*>(dict.entries.data()),
                               dict.entries.size(), sizeof(T), raw);
                const unsigned width = bits_for(dict.entries.size());
                w.u8(static_cast<std::uint8_t>(width));
                pack_bits(dict.row_ids, width, raw);
                enc = Encoding::Dictionary;
              } else {
                put_byte_split(reinterpret_cast<const std::byte*>(values), rows, sizeof(T), raw);
                enc = Encoding::ByteSplit;
              }
            } else {
              put_byte_split(reinterpret_cast<const std::byte*>(values), rows, sizeof(T), raw);
              enc = Encoding::ByteSplit;
            }
          }
        },
        col.data());
  }
  raw[0] = static_cast<char>(enc);
  result.encoding = enc;
  compress(raw, opt, result.bytes);
  return result;
}

Result<void> decode_column(std::span<const std::byte> chunk, std::size_t rows, FieldType type,
                           Column& out) {
  ByteReader outer(chunk);
  // Per-thread scratch: decoding allocates nothing per chunk once warm.
  thread_local std::string scratch;
  thread_local std::vector<std::uint64_t> u;
  auto raw = decompress(outer, scratch);
  if (!raw) return raw.error();
  ByteReader r(*raw);
  const auto enc = static_cast<Encoding>(r.u8());
  const auto validity = static_cast<Validity>(r.u8());
  if (r.failed() || static_cast<std::uint8_t>(enc) > 4 || static_cast<std::uint8_t>(validity) > 2) {
    return Error{ErrorCode::Corruption, "chunk has an unknown encoding or validity mode"};
  }
  if (field_info(out.field()).type != type) {
    return Error{ErrorCode::Corruption,
                 fmt::format("column {} is stored as {} but the registry says {}",
                             field_info(out.field()).name, type_name(type),
                             type_name(field_info(out.field()).type))};
  }
  auto dst_bits = out.validity_words();
  const std::size_t nwords = (rows + 63) / 64;
  if (validity == Validity::None) return ok();
  if (validity == Validity::Bitmap) {
    auto src = r.bytes(nwords * 8);
    if (r.failed()) return Error{ErrorCode::Corruption, "chunk validity bitmap is truncated"};
    std::memcpy(dst_bits.data(), src.data(), nwords * 8);
  } else {
    for (std::size_t i = 0; i < nwords; ++i) dst_bits[i] = ~std::uint64_t{0};
    if (rows % 64 != 0) dst_bits[nwords - 1] = (std::uint64_t{1} << (rows % 64)) - 1;
  }

  Result<void> status = ok();
  std::visit(
      [&](auto& data) {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          const std::uint32_t n = r.u32le();
          std::vector<std::string_view> entries;
          for (std::uint32_t i = 0; i < n && !r.failed(); ++i) {
            const std::uint32_t len = r.u32le();
            auto s = r.bytes(len);
            entries.emplace_back(reinterpret_cast<const char*>(s.data()), s.size());
          }
          const unsigned width = r.u8();
          auto packed = r.bytes(packed_size(rows, width));
          if (r.failed() || enc != Encoding::Dictionary || width > kMaxPackedWidth) {
            status = Error{ErrorCode::Corruption, "string chunk is truncated or invalid"};
            return;
          }
          std::vector<std::uint64_t> ids(rows);
          unpack_bits(packed.data(), rows, width, ids.data());
          for (std::size_t i = 0; i < rows; ++i) {
            if (ids[i] >= entries.size()) {
              status = Error{ErrorCode::Corruption, "string chunk refers past its dictionary"};
              return;
            }
            data.set(i, entries[ids[i]]);
          }
        } else {
          using T = typename D::value_type;
          T* values = data.data();
          if (enc == Encoding::Plain) {  // the WAL's fast path: values as in memory
            auto src = r.bytes(rows * sizeof(T));
            if (r.failed()) {
              status = Error{ErrorCode::Corruption, "chunk values are truncated"};
              return;
            }
            std::memcpy(static_cast<void*>(values), src.data(), src.size());
          } else if constexpr (kIsInteger<T>) {
            if (u.size() < rows) u.resize(rows);
            status = decode_integers(r, enc, rows, sizeof(T), u.data());
            if (!status) return;
            for (std::size_t i = 0; i < rows; ++i) values[i] = from_u64<T>(u[i]);
          } else if (enc == Encoding::Plain || enc == Encoding::ByteSplit) {
            auto src = r.bytes(rows * sizeof(T));
            if (r.failed()) {
              status = Error{ErrorCode::Corruption, "chunk values are truncated"};
              return;
            }
            if (enc == Encoding::Plain) {
              std::memcpy(static_cast<void*>(values), src.data(), src.size());
            } else {
              get_byte_split(src.data(), rows, sizeof(T), reinterpret_cast<std::byte*>(values));
            }
          } else if (enc == Encoding::Dictionary) {
            const std::uint32_t n = r.u32le();
            auto src = r.bytes(std::size_t{n} * sizeof(T));
            const unsigned width = r.u8();
            auto packed = r.bytes(packed_size(rows, width));
            if (r.failed() || width > kMaxPackedWidth) {
              status = Error{ErrorCode::Corruption, "dictionary chunk is truncated"};
              return;
            }
            std::vector<T> entries(n);
            get_byte_split(src.data(), n, sizeof(T), reinterpret_cast<std::byte*>(entries.data()));
            std::vector<std::uint64_t> ids(rows);
            unpack_bits(packed.data(), rows, width, ids.data());
            for (std::size_t i = 0; i < rows; ++i) {
              if (ids[i] >= n) {
                status = Error{ErrorCode::Corruption, "chunk refers past its dictionary"};
                return;
              }
              values[i] = entries[ids[i]];
            }
          } else {
            status = Error{ErrorCode::Corruption, "chunk encoding does not fit its type"};
          }
        }
      },
      out.data());
  return status;
}

}  // namespace flowscope::store
