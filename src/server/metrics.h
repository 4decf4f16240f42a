#pragma once
// Prometheus text exposition (version 0.0.4) for the admin port's /metrics, and the latency
// histogram of the query protocol. MetricsWriter writes one family at a time (# HELP, # TYPE,
// samples); label values are escaped as the format requires.
//
// LatencyHistogram: fixed buckets, atomic counters; observe() from any thread, read anytime.
// Internal to flowscope_server: other modules use its public headers.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace flowscope::server {

class LatencyHistogram {
 public:
  // Upper bounds in seconds (le), as Prometheus' default buckets span 1 ms to 10 s.
  static constexpr std::array<double, 12> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  void observe(std::chrono::nanoseconds elapsed);
  // Cumulative count of bucket i (observations <= kBounds[i]).
  std::uint64_t cumulative(std::size_t i) const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum_seconds() const { return sum_ns_.load(std::memory_order_relaxed) / 1e9; }

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size()> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class MetricsWriter {
 public:
  // type: "counter", "gauge", "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, double value, Labels labels = {});
  void histogram(std::string_view name, const LatencyHistogram& h);
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

}  // namespace flowscope::server
