#pragma once
// The shared body of the decoder fuzz targets: the input becomes one datagram whose version word
// the target forces (so that every input reaches the decoder under test, not the dispatcher),
// decoded by a FlowDecoder whose state persists across inputs, as in a long-running collector.
// Each target must never crash, hang or trip ASan/UBSan. Single-threaded (libFuzzer's loop).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "decode/flow_decoder.h"

namespace flowscope::decode {

// `force_version` rewrites the first bytes of the copy of the input in place.
template <typename ForceVersion>
int fuzz_datagram(const std::uint8_t* data, std::size_t size, ForceVersion force_version) {
  static FlowDecoder decoder;  // persistent template and sequence state is the point
  static FlowBatch batch;
  std::vector<std::byte> payload(size);
  if (size > 0) std::memcpy(payload.data(), data, size);
  force_version(payload);
  batch.clear();
  (void)decoder.decode({payload, IpAddress::v4(0xC0000201), {}}, batch);
  if (size % 7 == 0) decoder.finish();  // now and then, end of input: drop buffered sets
  return 0;
}

// Sets the 16-bit NetFlow/IPFIX version word when the input is long enough to hold it.
inline auto version_word(std::uint8_t version) {
  return [version](std::vector<std::byte>& p) {
    if (p.size() < 2) return;
    p[0] = std::byte{0};
    p[1] = std::byte{version};
  };
}

}  // namespace flowscope::decode
