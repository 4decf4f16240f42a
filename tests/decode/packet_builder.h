#pragma once
// Builds small export packets inline, big-endian, for the decoder unit tests (docs/conventions.md
// "Tests": small packets inline as bytes). set_begin()/set_end() patch set and message lengths.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace flowscope::testing {

class PacketBuilder {
 public:
  PacketBuilder& u8(std::uint32_t v) {
    bytes_.push_back(static_cast<std::byte>(v & 0xFF));
    return *this;
  }
  PacketBuilder& u16(std::uint32_t v) { return u8(v >> 8).u8(v); }
  PacketBuilder& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xFFFF); }
  PacketBuilder& u64(std::uint64_t v) {
    return u32(static_cast<std::uint32_t>(v >> 32)).u32(static_cast<std::uint32_t>(v));
  }
  PacketBuilder& ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return u8(a).u8(b).u8(c).u8(d);
  }
  PacketBuilder& raw(std::initializer_list<std::uint8_t> bytes) {
    for (auto b : bytes) u8(b);
    return *this;
  }
  PacketBuilder& zeros(std::size_t n) {
    bytes_.insert(bytes_.end(), n, std::byte{0});
    return *this;
  }
  // Starts a set: id and a length patched by set_end().
  PacketBuilder& set_begin(std::uint16_t id) {
    set_start_ = bytes_.size();
    return u16(id).u16(0);
  }
  PacketBuilder& set_end() { return patch16(set_start_ + 2, bytes_.size() - set_start_); }
  PacketBuilder& patch16(std::size_t at, std::size_t v) {
    bytes_[at] = static_cast<std::byte>((v >> 8) & 0xFF);
    bytes_[at + 1] = static_cast<std::byte>(v & 0xFF);
    return *this;
  }
  // IPFIX: patches the message length at offset 2.
  PacketBuilder& finish_ipfix() { return patch16(2, bytes_.size()); }

  std::size_t size() const { return bytes_.size(); }
  const std::vector<std::byte>& bytes() const { return bytes_; }
  std::vector<std::byte>& bytes() { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
  std::size_t set_start_ = 0;
};

// IPFIX message header (RFC 7011 §3.1); length patched by finish_ipfix().
inline PacketBuilder ipfix_header(std::uint32_t export_time, std::uint32_t sequence,
                                  std::uint32_t domain) {
  PacketBuilder b;
  b.u16(10).u16(0).u32(export_time).u32(sequence).u32(domain);
  return b;
}

// NetFlow v9 header (RFC 3954 §5.1).
inline PacketBuilder v9_header(std::uint32_t uptime, std::uint32_t unix_secs,
                               std::uint32_t sequence, std::uint32_t source_id) {
  PacketBuilder b;
  b.u16(9).u16(0).u32(uptime).u32(unix_secs).u32(sequence).u32(source_id);
  return b;
}

}  // namespace flowscope::testing
