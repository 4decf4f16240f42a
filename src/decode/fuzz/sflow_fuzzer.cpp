// libFuzzer target: sFlow datagrams (32-bit version forced to 2, 4 or 5 by the input's fourth
// byte), whatever their sample counts and lengths claim.
#include "decode/fuzz/datagram_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return flowscope::decode::fuzz_datagram(data, size, [](std::vector<std::byte>& p) {
    static constexpr std::uint8_t kVersions[] = {2, 4, 5};
    if (p.size() < 4) return;
    std::uint8_t pick = static_cast<std::uint8_t>(p[3]);
    p[0] = p[1] = p[2] = std::byte{0};
    p[3] = std::byte{kVersions[pick % 3]};
  });
}
