#pragma once
// What every chart flowscope draws shares, so that a `stat -g` PNG, a report's PDF and its
// HTML look alike: the palette (ten series colours, grey for "others"), round axis maxima and
// SI-prefixed tick labels, and short time labels. Pure functions; any thread.

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"

namespace flowscope::query {

struct Rgb {
  double r, g, b;
};
inline constexpr Rgb kChartPalette[] = {{0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17},
                                        {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29},
                                        {0.89, 0.47, 0.76}, {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81},
                                        {0.40, 0.55, 0.80}};
inline constexpr Rgb kChartOthers = {0.75, 0.75, 0.75};
inline const Rgb& chart_color(std::size_t i) {
  return kChartPalette[i % (sizeof kChartPalette / sizeof kChartPalette[0])];
}
// "#1f77b4"
std::string css_color(const Rgb& c);

// "0", "950", "1.5k", "12M": tick labels.
std::string si_label(double v);
// A round axis maximum at or above `v`: 1, 2 or 5 times a power of ten (1 for v <= 0).
double nice_max(double v);
// A tick label for bucket time `ms` on an axis spanning `span_ms`: "11-24 08:00" when it spans
// days, else "08:00:10".
std::string time_tick(std::int64_t ms, std::int64_t span_ms, const TimeZoneRef& zone);
// Up to `max_ticks` indexes into n points, evenly spread, first and last included.
std::vector<std::size_t> tick_indexes(std::size_t n, std::size_t max_ticks);

}  // namespace flowscope::query
