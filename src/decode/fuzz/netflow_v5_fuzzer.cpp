// libFuzzer target: netflow_v5 datagrams (version word forced to 1, 5 or 7) through a FlowDecoder whose
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
  // Keep the version a v1/v5/v7 one so the fuzzer explores that decoder, not the dispatcher.
  if (size >= 2) {
    static constexpr std::byte kVersions[3] = {std::byte{1}, std::byte{5}, std::byte{7}};
    payload[0] = std::byte{0};
    payload[1] = kVersions[static_cast<std::uint8_t>(data[1]) % 3];
  }
  batch.clear();
  (void)decoder.decode({payload, flowscope::IpAddress::v4(0xC0000201), {}}, batch);
  if (size % 7 == 0) decoder.finish();
  return 0;
}
