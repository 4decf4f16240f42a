// libFuzzer target: sFlow datagrams (version forced to 2, 4 or 5 by the input's fourth byte)
// through a FlowDecoder that keeps its state across inputs, as a collector does. Must never
// crash, hang or trip ASan/UBSan, whatever the sample counts and lengths claim.
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
  if (size >= 4) {
    static constexpr std::uint8_t kVersions[] = {2, 4, 5};
    payload[0] = payload[1] = payload[2] = std::byte{0};
    payload[3] = std::byte{kVersions[data[3] % 3]};
  }
  batch.clear();
  (void)decoder.decode({payload, flowscope::IpAddress::v4(0xC0000201), {}}, batch);
  return 0;
}
