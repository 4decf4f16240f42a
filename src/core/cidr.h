#pragma once
// Cidr: an address prefix, "10.0.0.0/8" or "2001:db8::/32", held in the 128-bit space of
// IpAddress (an IPv4 /n is ::ffff:0:0/96 + n). Consequently "::/0" contains every address,
// IPv4 ones included, while "0.0.0.0/0" contains exactly the IPv4 addresses.
// Invariant: host bits (those past the prefix) are zero. Plain value; any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/ip_address.h"
#include "core/result.h"

namespace flowscope {

class Cidr {
 public:
  // What parse() does with "10.1.2.3/8", whose host bits are set.
  enum class HostBits : std::uint8_t {
    Reject,  // an error that names the network the user probably meant (configuration files)
    Clear,   // silently use 10.0.0.0/8, as nfdump and most filters do
  };

  // The host route of `address` (/32 or /128).
  static Cidr host(const IpAddress& address);
  // REQUIRES: prefix_len <= 32 for an IPv4 address, <= 128 otherwise. Host bits are cleared.
  static Cidr make(const IpAddress& address, unsigned prefix_len);

  // "ADDR/LEN" or a bare "ADDR" (a host route). LEN is in the address's own family (0-32 for
  // IPv4, 0-128 for IPv6).
  static Result<Cidr> parse(std::string_view text, HostBits host_bits = HostBits::Reject);

  const IpAddress& network() const { return network_; }
  // The prefix length as written: 0-32 for IPv4 networks, 0-128 for IPv6 ones.
  unsigned prefix_len() const { return is_v4() ? bits_ - 96 : bits_; }
  // The prefix length in the 128-bit space.
  unsigned bits128() const { return bits_; }
  bool is_v4() const { return bits_ >= 96 && network_.is_v4(); }

  bool contains(const IpAddress& address) const;
  bool contains(const Cidr& other) const {
    return other.bits_ >= bits_ && contains(other.network_);
  }
  // The last address inside the prefix.
  IpAddress last() const;

  std::string to_string() const;

  friend auto operator<=>(const Cidr&, const Cidr&) = default;
  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  Cidr(const IpAddress& network, unsigned bits128) : network_(network), bits_(bits128) {}
  IpAddress network_;
  unsigned bits_ = 0;
};

// The address with every bit past the first `bits128` cleared.
IpAddress mask_address(const IpAddress& address, unsigned bits128);

}  // namespace flowscope

template <>
struct fmt::formatter<flowscope::Cidr> : fmt::formatter<std::string_view> {
  auto format(const flowscope::Cidr& c, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(c.to_string(), ctx);
  }
};
