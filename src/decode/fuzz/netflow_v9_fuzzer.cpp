// libFuzzer target: NetFlow v9 packets (version word forced to 9).
#include "decode/fuzz/datagram_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return flowscope::decode::fuzz_datagram(data, size, flowscope::decode::version_word(9));
}
