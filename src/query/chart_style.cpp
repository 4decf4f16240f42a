#include "query/chart_style.h"

#include <cmath>

#include <fmt/format.h>

namespace flowscope::query {

std::string css_color(const Rgb& c) {
  auto v = [](double x) { return static_cast<int>(std::lround(x * 255)); };
  return fmt::format("#{:02x}{:02x}{:02x}", v(c.r), v(c.g), v(c.b));
}

std::string si_label(double v) {
  const char* units[] = {"", "k", "M", "G", "T", "P"};
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  return v == std::floor(v) ? fmt::format("{:.0f}{}", v, units[u])
                            : fmt::format("{:.1f}{}", v, units[u]);
}

double nice_max(double v) {
  if (v <= 0) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

std::string time_tick(std::int64_t ms, std::int64_t span_ms, const TimeZoneRef& zone) {
  std::string text = format_time(time_from_ms(ms), zone);
  if (auto t = text.find('T'); t != std::string::npos) {
    text = span_ms >= 86400000 ? text.substr(5, 5) + " " + text.substr(t + 1, 5)
                               : text.substr(t + 1, 8);
  }
  return text;
}

std::vector<std::size_t> tick_indexes(std::size_t n, std::size_t max_ticks) {
  std::vector<std::size_t> out;
  const std::size_t ticks = std::min(n, max_ticks);
  for (std::size_t i = 0; i < ticks; ++i) out.push_back(ticks == 1 ? 0 : i * (n - 1) / (ticks - 1));
  return out;
}

}  // namespace flowscope::query
