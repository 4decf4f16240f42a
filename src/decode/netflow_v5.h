#pragma once
// NetFlow v1, v5 and v7: fixed-format export packets (Cisco "NetFlow Export Datagram Format").
// The three versions share one header reader and one record decoder driven by a per-version
// layout table (record size, maximum count, where flags/protocol/ToS sit, whether AS numbers
// and masks are present), so no decode logic is repeated per version.
//
// One decoder per FlowDecoder, used from its thread only.
// Internal to flowscope_decode: other modules use its public headers.

#include <cstddef>
#include <span>

#include "core/record_batch.h"
#include "core/time.h"
#include "decode/decode_stats.h"
#include "decode/sequence_tracker.h"

namespace flowscope::decode {

class NetflowV5Decoder {
 public:
  explicit NetflowV5Decoder(DecodeStats& stats) : stats_(stats) {}

  // REQUIRES: the datagram's version word is 1, 5 or 7 (FlowDecoder dispatches on it).
  // Appends one row per flow record; a malformed packet is counted and appends nothing.
  std::size_t decode(std::span<const std::byte> datagram, const IpAddress& exporter,
                     FlowBatch& batch);

 private:
  DecodeStats& stats_;
  SequenceTracker sequences_;
};

}  // namespace flowscope::decode
