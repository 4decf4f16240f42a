// libFuzzer target: netflow_v9 datagrams (version word forced to 9) through a FlowDecoder whose
// template state persists across inputs, as in a long-running collector. Must never crash,
// hang or trip ASan/UBSan.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "decode/flow_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static flowscope::decode::FlowDecoder decoder;  // persistent state is the point of this target
  static flowscope::FlowBatch batch;
  std::vector<std::byte> payload(size);
  if (size > 0) std::memcpy(payload.data(), data, size);
  if (size >= 2) {
    payload[0] = std::byte{0};
    payload[1] = std::byte{9};
  }
  batch.clear();
  (void)decoder.decode({payload, flowscope::IpAddress::v4(0xC0000201), {}}, batch);
  if (size % 7 == 0) decoder.finish();
  return 0;
}
