#pragma once
// Walks the sets (IPFIX, RFC 7011 §3.3) or flowsets (NetFlow v9, RFC 3954 §5) of one message:
// both are a 2-byte id, a 2-byte length that includes the 4-byte header, then the body. Shared
// so the bounds checks exist once. Stateless; any thread.
// Internal to flowscope_decode: other modules use its public headers.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/byte_reader.h"
#include "decode/decode_stats.h"

namespace flowscope::decode {

// Calls on_set(set_id, body) for each well-formed set. A set shorter than its header or longer
// than what is left ends the walk (the rest of the message cannot be framed) and is counted;
// trailing bytes shorter than a set header, or all zero (exporters that pad the datagram), are
// padding; anything else left over is counted as trailing_garbage.
template <typename OnSet>
void walk_sets(std::span<const std::byte> sets, const IpAddress& exporter, DecodeStats& stats,
               OnSet&& on_set) {
  ByteReader r(sets);
  while (r.remaining() >= 4) {
    const std::uint16_t set_id = r.peek_u16be(0);
    const std::uint16_t length = r.peek_u16be(2);
    if (length < 4) {
      bool all_zero = true;
      for (std::byte b : r.rest()) all_zero = all_zero && b == std::byte{0};
      if (!all_zero) stats.count(exporter, DecodeError::SetTooShort);
      return;
    }
    if (length > r.remaining()) {
      stats.count(exporter, DecodeError::SetLengthOverrun);
      return;
    }
    ByteReader set = r.take(length);
    set.skip(4);
    on_set(set_id, set.rest());
  }
  if (!r.empty()) {
    bool all_zero = true;
    for (std::byte b : r.rest()) all_zero = all_zero && b == std::byte{0};
    if (!all_zero) stats.count(exporter, DecodeError::TrailingGarbage);
  }
}

}  // namespace flowscope::decode
