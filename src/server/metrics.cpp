#include "server/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace flowscope::server {

void LatencyHistogram::observe(std::chrono::nanoseconds elapsed) {
  const double seconds = elapsed.count() / 1e9;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::cumulative(std::size_t i) const {
  std::uint64_t n = 0;
  for (std::size_t b = 0; b <= i && b < kBounds.size(); ++b) {
    n += buckets_[b].load(std::memory_order_relaxed);
  }
  return n;
}

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void MetricsWriter::sample(std::string_view name, double value, Labels labels) {
  out_ += name;
  if (labels.size() > 0) {
    out_ += '{';
    bool first = true;
    for (const auto& [key, raw] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += key;
      out_ += "=\"";
      for (char c : raw) {
        if (c == '\\' || c == '"') {
          out_ += '\\';
          out_ += c;
        } else if (c == '\n') {
          out_ += "\\n";
        } else {
          out_ += c;
        }
      }
      out_ += '"';
    }
    out_ += '}';
  }
  if (std::floor(value) == value && std::fabs(value) < 1e18) {
    fmt::format_to(std::back_inserter(out_), " {}\n", static_cast<std::int64_t>(value));
  } else {
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }
}

void MetricsWriter::histogram(std::string_view name, const LatencyHistogram& h) {
  // One consistent snapshot. observe() adds to a bucket, then to the count, so reading them
  // apart while it runs could print a +Inf bucket and a _count below the le="10" bucket. The
  // buckets only grow, so cumulative values read in order never decrease; the count is read
  // after them, raised to their total, and printed as both +Inf and _count.
  std::array<std::uint64_t, LatencyHistogram::kBounds.size()> cumulative{};
  for (std::size_t i = 0; i < cumulative.size(); ++i) {
    cumulative[i] = std::max(h.cumulative(i), i == 0 ? 0 : cumulative[i - 1]);
  }
  const std::uint64_t count = std::max(h.count(), cumulative.back());
  const std::string bucket = fmt::format("{}_bucket", name);
  for (std::size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    const std::string le = fmt::format("{}", LatencyHistogram::kBounds[i]);
    sample(bucket, static_cast<double>(cumulative[i]), {{"le", le}});
  }
  sample(bucket, static_cast<double>(count), {{"le", "+Inf"}});
  sample(fmt::format("{}_sum", name), h.sum_seconds());
  sample(fmt::format("{}_count", name), static_cast<double>(count));
}

}  // namespace flowscope::server
