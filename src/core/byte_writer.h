#pragma once
// ByteWriter: the writing counterpart of ByteReader (docs/conventions.md "Parsing wire formats"),
// for the flow encoders and the pcap writer. Appends big-endian integers and raw bytes to a
// caller-owned std::vector<std::byte> (never shrinks it, so one buffer can hold many datagrams back
// to back), and patches lengths written before their content is known. Not thread-safe: one writer
// per buffer.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace flowscope {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::byte>& out) : out_(out) {}

  // Offset of the next byte within the buffer (also counts bytes written before this writer).
  std::size_t offset() const { return out_.size(); }

  void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
  void u16be(std::uint16_t v) { put_be(v, 2); }
  void u32be(std::uint32_t v) { put_be(v, 4); }
  void u64be(std::uint64_t v) { put_be(v, 8); }
  void u16le(std::uint16_t v) { put_le(v, 2); }
  void u32le(std::uint32_t v) { put_le(v, 4); }
  // The low `width` bytes of v, big-endian (IPFIX reduced-size encoding, RFC 7011 §6.2).
  void uint_be(std::uint64_t v, std::size_t width) { put_be(v, width); }
  void bytes(std::span<const std::byte> data) { out_.insert(out_.end(), data.begin(), data.end()); }
  void bytes(std::span<const std::uint8_t> data) {
    for (std::uint8_t b : data) u8(b);
  }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, std::byte{0}); }
  // Zero bytes up to the next multiple of `align` counted from `from` (set padding, XDR).
  void pad_to(std::size_t from, std::size_t align) {
    zeros((align - (offset() - from) % align) % align);
  }

  // REQUIRES: at + 2 <= offset(). Overwrites a length or count written earlier.
  void patch_u16be(std::size_t at, std::uint16_t v) {
    out_[at] = static_cast<std::byte>(v >> 8);
    out_[at + 1] = static_cast<std::byte>(v);
  }
  // REQUIRES: at + 4 <= offset().
  void patch_u32be(std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<std::byte>(v >> (24 - 8 * i));
  }

 private:
  void put_be(std::uint64_t v, std::size_t width) {
    for (std::size_t i = width; i > 0; --i)
      out_.push_back(static_cast<std::byte>(v >> (8 * (i - 1))));
  }
  void put_le(std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) out_.push_back(static_cast<std::byte>(v >> (8 * i)));
  }

  std::vector<std::byte>& out_;
};

}  // namespace flowscope
