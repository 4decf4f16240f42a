#pragma once
// TCP flag bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR), their FlowTraq filter names (FSYN, ...)
// and nfdump's 8-letter display ("CEUAPRSF" with '.' for an absent flag). Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowscope::tcp_flags {

inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;

// "FSYN" -> kSyn; also accepts "SYN" and lower case. nullopt for an unknown name.
std::optional<std::uint8_t> parse_name(std::string_view name);
// "......S." style, most significant bit first: C E U A P R S F.
std::string format(std::uint8_t flags);
// "FSYN|FACK"; "" for none.
std::string format_names(std::uint8_t flags);

}  // namespace flowscope::tcp_flags
