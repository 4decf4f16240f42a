// libFuzzer target: `gen traffic` scenario files. Any text parses to a scenario or an error
// naming a line; nothing throws or crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gen/traffic_scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = flowscope::gen::parse_scenario(text, "fuzz.toml");
  if (s && s->streams.empty()) __builtin_trap();  // a scenario always has a stream
  return 0;
}
