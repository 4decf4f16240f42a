#pragma once
// The traffic model of `flowscope gen flows` (docs/gen.md "Distributions"): sessions between
// Zipf-distributed clients and servers, service ports from a weighted list with the client on an
// ephemeral port, log-normal packets per flow and bytes per packet, exponential durations, and
// an IPv4/IPv6 mix. Each session becomes two one-way flows (client to server and back), as an
// exporter between them would report it.
//
// Deterministic: the same seed and configuration give the same flows on any run. Randomness
// comes from splitmix64 and our own transforms, not std:: distributions, whose algorithms differ
// between standard libraries. A model is a value used from one thread.

#include <cstdint>
#include <vector>

#include "core/record_batch.h"
#include "core/time.h"

namespace flowscope::gen {

// splitmix64 (Steele, Lea, Flood 2014): small, fast, and every seed is a good one.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1]: never 0, so that log() is finite.
  double uniform() { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }
  // Uniform integer in [0, n). REQUIRES: n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  double normal();
  double log_normal(double median, double sigma);
  double exponential(double mean);

 private:
  std::uint64_t state_;
};

// Ranks 1..n drawn with probability proportional to 1/rank^s.
class ZipfSampler {
 public:
  // REQUIRES: n > 0.
  ZipfSampler(std::uint32_t n, double s);
  // A rank in [0, n): 0 is the most popular.
  std::uint32_t sample(Rng& rng) const;

 private:
  std::vector<double> cdf_;
};

struct FlowModelConfig {
  std::uint32_t clients = 10000;  // client host population
  std::uint32_t servers = 1000;   // server host population
  double zipf_exponent = 1.1;
  double ipv6_share = 0.2;  // fraction of sessions over IPv6
};

class FlowModel {
 public:
  FlowModel(const FlowModelConfig& config, std::uint64_t seed);

  // Appends one session that ended shortly before `now` as two rows (client to server, then
  // server to client), or one row when `max_rows` is 1.
  // Returns the rows appended.
  std::size_t add_session(TimeMs now, FlowBatch& batch, std::size_t max_rows = 2);

 private:
  FlowModelConfig config_;
  Rng rng_;
  ZipfSampler clients_;
  ZipfSampler servers_;
  std::vector<double> service_cdf_;
};

}  // namespace flowscope::gen
