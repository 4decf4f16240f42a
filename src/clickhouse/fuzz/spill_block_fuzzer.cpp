// Spill queue block files as a crash or a disk may leave them: parse_spill_block must reject
// a damaged file, never overrun, and round-trip the blocks it accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "clickhouse/spill_queue.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  auto block = flowscope::clickhouse::parse_spill_block(file);
  if (block && flowscope::clickhouse::serialize_spill_block(*block) != file) std::abort();
  return 0;
}
