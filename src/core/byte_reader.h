#pragma once
// ByteReader: bounds-checked reading of wire formats from a borrowed byte span (docs/conventions.md
// "Parsing wire formats").
//
// Invariants: a reader never reads outside its span. A read past the end returns 0 (or an empty
// span), reads nothing, and sets failed(), which stays set: check it once after a group of reads.
// take(n) hands out a sub-reader bounded to the next n bytes, so a bad length inside a record
// cannot spill into the next one. The span must outlive the reader and every span it returns;
// copy what must be kept. Readers are cheap values and not thread-safe (one per parse).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace flowscope {

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::span<const std::byte> data) : data_(data) {}
  ByteReader(const void* data, std::size_t size)
      : data_(static_cast<const std::byte*>(data), size) {}

  std::size_t size() const { return data_.size(); }
  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  bool failed() const { return failed_; }
  // True when at least n more bytes can be read.
  bool has(std::size_t n) const { return n <= remaining(); }

  std::uint8_t u8() { return read_uint<std::uint8_t, false>(); }
  std::uint16_t u16be() { return read_uint<std::uint16_t, true>(); }
  std::uint32_t u24be() {
    std::uint8_t b[3];
    if (!copy_out(b, 3)) return 0;
    return (std::uint32_t{b[0]} << 16) | (std::uint32_t{b[1]} << 8) | b[2];
  }
  std::uint32_t u32be() { return read_uint<std::uint32_t, true>(); }
  std::uint64_t u64be() { return read_uint<std::uint64_t, true>(); }
  std::uint16_t u16le() { return read_uint<std::uint16_t, false>(); }
  std::uint32_t u32le() { return read_uint<std::uint32_t, false>(); }
  std::uint64_t u64le() { return read_uint<std::uint64_t, false>(); }

  // An unsigned big-endian integer of 1..8 bytes (IPFIX reduced-size encoding, RFC 7011 §6.2).
  // A width of 0 or over 8 fails the reader.
  std::uint64_t uint_be(std::size_t width) {
    if (width == 0 || width > 8 || !has(width)) return fail_u64();
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) {
      v = (v << 8) | static_cast<std::uint8_t>(data_[pos_ + i]);
    }
    pos_ += width;
    return v;
  }

  // The next n bytes, or an empty span (and failed()) when fewer remain.
  std::span<const std::byte> bytes(std::size_t n) {
    if (!has(n)) {
      failed_ = true;
      pos_ = data_.size();
      return {};
    }
    auto out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  // Copies n bytes to dst; on overrun zero-fills dst and fails.
  bool copy_out(void* dst, std::size_t n) {
    auto src = bytes(n);
    if (src.size() != n) {
      std::memset(dst, 0, n);
      return false;
    }
    if (n != 0) std::memcpy(dst, src.data(), n);
    return true;
  }

  // A reader over the next n bytes; this reader moves past them. On overrun both fail and the
  // returned reader is empty.
  ByteReader take(std::size_t n) {
    auto sub = bytes(n);
    ByteReader r(sub);
    r.failed_ = failed_;
    return r;
  }

  void skip(std::size_t n) { (void)bytes(n); }

  // The unread rest, without consuming it.
  std::span<const std::byte> rest() const { return data_.subspan(pos_); }

  // Peeks at a big-endian u16 at `ahead` bytes from the current position without consuming
  // anything; 0 when out of range (does not fail the reader).
  std::uint16_t peek_u16be(std::size_t ahead = 0) const {
    if (ahead > remaining() || remaining() - ahead < 2) return 0;
    return static_cast<std::uint16_t>((static_cast<unsigned>(data_[pos_ + ahead]) << 8) |
                                      static_cast<unsigned>(data_[pos_ + ahead + 1]));
  }

 private:
  template <typename T, bool kBigEndian>
  T read_uint() {
    if (!has(sizeof(T))) {
      failed_ = true;
      pos_ = data_.size();
      return 0;
    }
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    if constexpr (kBigEndian && sizeof(T) > 1) v = byteswap(v);
    return v;
  }

  template <typename T>
  static T byteswap(T v) {
    if constexpr (sizeof(T) == 2) return __builtin_bswap16(v);
    if constexpr (sizeof(T) == 4) return __builtin_bswap32(v);
    if constexpr (sizeof(T) == 8) return __builtin_bswap64(v);
  }

  std::uint64_t fail_u64() {
    failed_ = true;
    pos_ = data_.size();
    return 0;
  }

  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

static_assert(std::endian::native == std::endian::little,
              "ByteReader assumes a little-endian host; add a branch for big-endian ones");

}  // namespace flowscope
