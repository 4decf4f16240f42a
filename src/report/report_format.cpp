#include "report/report_format.h"

#include <cmath>

#include <fmt/format.h>

namespace flowscope::report {
namespace {

std::string scaled(double v, const char* const* units, int count) {
  int u = 0;
  while (std::fabs(v) >= 1000 && u + 1 < count) {
    v /= 1000;
    ++u;
  }
  if (u == 0) return fmt::format("{:.0f} {}", v, units[0]);
  const int digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return fmt::format("{:.{}f} {}", v, digits, units[u]);
}

}  // namespace

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  return scaled(bytes, kUnits, 7);
}

std::string human_rate(double bits_per_s) {
  static constexpr const char* kUnits[] = {"b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s", "Pb/s"};
  return scaled(bits_per_s, kUnits, 6);
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const std::size_t lead = digits.size() % 3;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && i % 3 == lead % 3) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string percent(double part, double whole) {
  if (whole <= 0) return "-";
  return fmt::format("{:.1f} %", 100.0 * part / whole);
}

std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace flowscope::report
