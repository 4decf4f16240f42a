#pragma once
// Internal to flowscope_decode: other modules use its public headers.
// Export sequence numbers and exporter restarts, per (exporter, version, source id / domain).
//
// What a sequence number counts differs: v5 flows sent (so the next is seq + count), v9 export
// packets (RFC 3954 §5.1: next is seq + 1), IPFIX data records (RFC 7011 §3.1: next is seq +
// data records in this message). A mismatch is a sequence gap (loss or reordering).
//
// Restart detection (docs/decode.md): sysUpTime going backwards (v5, v9), or for IPFIX, which
// has no uptime, the sequence going backwards by more than kRestartWindow. A restart is counted
// and the sequence state reset; templates are NOT flushed: a restarted exporter re-sends its
// templates before data (RFC 7011 §8, RFC 3954 §5.2), which replace the cached ones, while a
// false detection (reordered or stitched captures) would otherwise lose every data set until
// the next template refresh. Bounded: at most kMaxDomains tracked. One thread.

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "decode/decode_stats.h"
#include "decode/template_engine.h"

namespace flowscope::decode {

class SequenceTracker {
 public:
  static constexpr std::uint32_t kRestartWindow = 1u << 16;
  static constexpr std::size_t kMaxDomains = 65536;

  // `sequence` from the header; `advance` what the message adds to it; `uptime` the header
  // sysUpTime when the protocol has one.
  void observe(const DomainKey& key, std::uint32_t sequence, std::uint32_t advance,
               std::optional<std::uint32_t> uptime, ExporterStats& st) {
    auto it = states_.find(key);
    if (it == states_.end()) {
      if (states_.size() >= kMaxDomains) return;
      states_.emplace(key, State{sequence + advance, uptime});
      return;
    }
    State& s = it->second;
    bool restart = false;
    if (uptime && s.uptime) {
      restart = *uptime < *s.uptime;
    } else if (sequence != s.expected) {
      restart = static_cast<std::uint32_t>(s.expected - sequence) < (1u << 31) &&
                s.expected - sequence > kRestartWindow;
    }
    if (restart) {
      ++st.restarts;
    } else if (sequence != s.expected) {
      ++st.sequence_gaps;
    }
    s.expected = sequence + advance;
    s.uptime = uptime;
  }

 private:
  struct State {
    std::uint32_t expected = 0;
    std::optional<std::uint32_t> uptime;
  };
  std::unordered_map<DomainKey, State, DomainKeyHash> states_;
};

}  // namespace flowscope::decode
