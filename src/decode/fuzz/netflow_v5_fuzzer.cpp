// libFuzzer target: NetFlow v1/v5/v7 packets (the second byte of the input picks the version).
#include "decode/fuzz/datagram_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr std::uint8_t kVersions[] = {1, 5, 7};
  std::uint8_t version = size >= 2 ? kVersions[data[1] % 3] : 5;
  return flowscope::decode::fuzz_datagram(data, size, flowscope::decode::version_word(version));
}
