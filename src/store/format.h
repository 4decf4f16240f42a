#pragma once
// Building blocks of the store's on-disk formats (docs/storage.md), shared by the segment and
// WAL readers and writers: magic numbers and versions, the checksum, a little-endian byte
// writer, and the order-preserving key that zone maps and scan predicates compare.
//
// All files are little-endian. Every byte that is read back is covered by a checksum
// (XXH3-64) before it is interpreted, so corruption is reported, never mis-read.
// Everything here is a pure function or a plain value: any thread.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "core/country_code.h"
#include "core/field_registry.h"
#include "core/ip_address.h"

namespace flowscope::store {

// "FSSEGMNT" / "FSWALLOG" as little-endian u64: the first 8 bytes of a segment and a WAL file.
inline constexpr std::uint64_t kSegmentMagic = 0x544E4D4745535346ULL;
inline constexpr std::uint64_t kSegmentTrailerMagic = 0x444E454745535346ULL;  // "FSSEGEND"
inline constexpr std::uint64_t kWalMagic = 0x474F4C4C41575346ULL;
// Bump on any incompatible change; readers refuse versions they do not know (docs/storage.md).
inline constexpr std::uint32_t kSegmentVersion = 1;
inline constexpr std::uint32_t kWalVersion = 1;

// Rows per block: the unit of zone maps, decoding and late materialisation.
inline constexpr std::size_t kDefaultBlockRows = 8192;

std::uint64_t checksum(std::span<const std::byte> data);
inline std::uint64_t checksum(std::string_view data) {
  return checksum(std::span(reinterpret_cast<const std::byte*>(data.data()), data.size()));
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Appends little-endian integers and raw bytes to a string (the encoders' output buffer).
class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { put(v); }
  void u32(std::uint32_t v) { put(v); }
  void u64(std::uint64_t v) { put(v); }
  void bytes(const void* data, std::size_t n) { out_.append(static_cast<const char*>(data), n); }
  void str16(std::string_view s) {
    u16(static_cast<std::uint16_t>(s.size()));
    bytes(s.data(), s.size());
  }
  std::size_t size() const { return out_.size(); }

 private:
  template <typename T>
  void put(T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out_.append(buf, sizeof(T));
  }
  std::string& out_;
};

// A value of any field type mapped to 128 bits so that unsigned comparison of keys orders values
// as their type does: unsigned integers as is, signed times with the sign bit flipped, addresses
// by their 16 bytes in network order, countries by their two letters. Strings have no key (their
// zone maps are absent and predicates on them are not pushed down).
struct OrderKey {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  friend constexpr auto operator<=>(const OrderKey&, const OrderKey&) = default;
  static constexpr OrderKey min() { return {0, 0}; }
  static constexpr OrderKey max() { return {~std::uint64_t{0}, ~std::uint64_t{0}}; }
};

inline constexpr std::uint64_t kSignFlip = std::uint64_t{1} << 63;

inline OrderKey order_key(std::uint64_t v) { return {0, v}; }
inline OrderKey order_key(std::uint32_t v) { return {0, v}; }
inline OrderKey order_key(std::uint16_t v) { return {0, v}; }
inline OrderKey order_key(std::uint8_t v) { return {0, v}; }
inline OrderKey order_key(std::int64_t v) { return {0, static_cast<std::uint64_t>(v) ^ kSignFlip}; }
inline OrderKey order_key(const IpAddress& a) { return {a.high64(), a.low64()}; }
inline OrderKey order_key(const CountryCode& c) {
  return {0, (std::uint64_t{static_cast<std::uint8_t>(c.code[0])} << 8) |
                 static_cast<std::uint8_t>(c.code[1])};
}

// Whether zone maps and predicates exist for a type.
constexpr bool has_order_key(FieldType t) { return t != FieldType::String; }

}  // namespace flowscope::store
