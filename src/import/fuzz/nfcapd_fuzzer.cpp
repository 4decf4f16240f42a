// libFuzzer target: nfcapd files (nfdump 1.7) read by import::NfcapdReader. Any input must give
// either an open error or flows and skip counts, never a crash, a hang or unbounded memory.
#include <cstddef>
#include <cstdint>
#include <string>

#include "import/nfcapd_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto reader = flowscope::import::NfcapdReader::from_bytes(
      std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!reader) return 0;
  flowscope::SessionBatch sessions(64);
  while (reader->read(sessions, 64)) sessions.clear();
  const auto& stats = reader->stats();
  if (stats.examples.size() > 5) __builtin_trap();
  return 0;
}
