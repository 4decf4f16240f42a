#pragma once
// IpAddress: one 16-byte value for IPv4 and IPv6 (docs/conventions.md "Ownership"). IPv4 is held
// v4-mapped
// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) so that every column, index and comparison handles one
// type. Consequence, documented in docs/addresses.md: an IPv6 packet that carries a literal
// ::ffff:a.b.c.d address is treated as that IPv4 address.
//
// Ordering is by the 16 bytes in network order, so all IPv4 addresses sort together, after the
// IPv6 addresses below ::ffff:0:0 and before the rest. Plain value; any thread.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/result.h"

namespace flowscope {

class IpAddress {
 public:
  using Bytes = std::array<std::uint8_t, 16>;

  // The unspecified IPv6 address "::". Note: not an IPv4 address.
  constexpr IpAddress() = default;
  constexpr explicit IpAddress(const Bytes& bytes) : bytes_(bytes) {}

  // From an IPv4 address in host byte order (0xC0000201 is 192.0.2.1).
  static constexpr IpAddress v4(std::uint32_t host_order) {
    Bytes b{};
    b[10] = 0xff;
    b[11] = 0xff;
    b[12] = static_cast<std::uint8_t>(host_order >> 24);
    b[13] = static_cast<std::uint8_t>(host_order >> 16);
    b[14] = static_cast<std::uint8_t>(host_order >> 8);
    b[15] = static_cast<std::uint8_t>(host_order);
    return IpAddress(b);
  }
  // From 4 bytes in network order, as on the wire.
  static IpAddress v4_bytes(std::span<const std::byte, 4> wire);
  // From 16 bytes in network order, as on the wire.
  static IpAddress v6_bytes(std::span<const std::byte, 16> wire);

  // Parses dotted-quad IPv4 ("192.0.2.1") or any RFC 4291 §2.2 IPv6 text form ("2001:db8::1",
  // "::ffff:192.0.2.1"). A zone ("fe80::1%eth0") is refused here; use ScopedAddress::parse.
  // Errors carry the offset of the first offending character.
  static Result<IpAddress> parse(std::string_view text);

  constexpr bool is_v4() const {
    for (int i = 0; i < 10; ++i) {
      if (bytes_[i] != 0) return false;
    }
    return bytes_[10] == 0xff && bytes_[11] == 0xff;
  }
  constexpr bool is_v6() const { return !is_v4(); }

  // REQUIRES: is_v4(). The address in host byte order.
  constexpr std::uint32_t v4_value() const {
    return (std::uint32_t{bytes_[12]} << 24) | (std::uint32_t{bytes_[13]} << 16) |
           (std::uint32_t{bytes_[14]} << 8) | bytes_[15];
  }
  // The upper and lower 64 bits, host order: the 128-bit value as two integers.
  std::uint64_t high64() const;
  std::uint64_t low64() const;
  static IpAddress from_u64(std::uint64_t high, std::uint64_t low);

  constexpr const Bytes& bytes() const { return bytes_; }

  // IPv4 as dotted quad; IPv6 per RFC 5952 §4 (lower case, no leading zeros, the longest run of
  // two or more zero groups as "::", the first of equal runs).
  std::string to_string() const;
  // Appends the text form to `out` without allocating beyond out's growth. Returns chars written.
  std::size_t format_to(char* out) const;  // REQUIRES: out has kMaxTextLength bytes
  static constexpr std::size_t kMaxTextLength = 39;

  friend constexpr auto operator<=>(const IpAddress&, const IpAddress&) = default;
  friend constexpr bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Bytes bytes_{};
};

static_assert(sizeof(IpAddress) == 16);

// An IPv6 address with its zone (RFC 4007 §11: "fe80::1%eth0"), for configuration and command
// lines. Flow records carry no zones, so stored addresses are plain IpAddress.
struct ScopedAddress {
  IpAddress address;
  std::string zone;  // empty when none

  static Result<ScopedAddress> parse(std::string_view text);
  std::string to_string() const;
};

struct IpAddressHash {
  std::size_t operator()(const IpAddress& a) const noexcept;
};

}  // namespace flowscope

template <>
struct std::hash<flowscope::IpAddress> : flowscope::IpAddressHash {};

template <>
struct fmt::formatter<flowscope::IpAddress> : fmt::formatter<std::string_view> {
  auto format(const flowscope::IpAddress& a, fmt::format_context& ctx) const {
    char buf[flowscope::IpAddress::kMaxTextLength];
    std::size_t n = a.format_to(buf);
    return fmt::formatter<std::string_view>::format(std::string_view(buf, n), ctx);
  }
};
