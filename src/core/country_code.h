#pragma once
// CountryCode: an ISO 3166-1 alpha-2 code ("BE", "US") in two bytes; all zero when unknown.
// Plain value; any thread.

#include <array>
#include <compare>
#include <string_view>

#include "core/result.h"

namespace flowscope {

struct CountryCode {
  std::array<char, 2> code{};

  // Two ASCII letters in any case ("be" is BE). Anything else is an error.
  static Result<CountryCode> parse(std::string_view text);
  bool empty() const { return code[0] == 0; }
  // "BE", or "" when unknown.
  std::string_view view() const {
    return empty() ? std::string_view() : std::string_view(code.data(), 2);
  }

  friend auto operator<=>(const CountryCode&, const CountryCode&) = default;
  friend bool operator==(const CountryCode&, const CountryCode&) = default;
};

static_assert(sizeof(CountryCode) == 2);

}  // namespace flowscope
