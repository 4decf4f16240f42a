#pragma once
// IP protocol numbers (IANA "Assigned Internet Protocol Numbers") and the names users type:
// PROTO == tcp, proto udp. Pure functions over a static table.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowscope::ip_proto {

inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kTcp = 6;
inline constexpr std::uint8_t kUdp = 17;
inline constexpr std::uint8_t kGre = 47;
inline constexpr std::uint8_t kIcmpV6 = 58;
inline constexpr std::uint8_t kSctp = 132;

// "tcp", "TCP" or "6" -> 6; nullopt when neither a known name nor a number 0-255.
std::optional<std::uint8_t> parse(std::string_view text);
// "tcp" for 6; the number as text for protocols without a name here.
std::string name(std::uint8_t proto);

}  // namespace flowscope::ip_proto
