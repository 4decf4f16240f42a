// libFuzzer target: IPFIX messages (version word forced to 10).
#include "decode/fuzz/datagram_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return flowscope::decode::fuzz_datagram(data, size, flowscope::decode::version_word(10));
}
