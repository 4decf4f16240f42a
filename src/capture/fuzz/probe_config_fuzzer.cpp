// libFuzzer target: `flowscope capture -c` probe configuration files (TOML,
// capture/probe_config.h). Any text parses or gives an error saying what is wrong.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "capture/probe_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = flowscope::capture::parse_probe_config(text, "fuzz.toml");
  if (!c && c.error().message.empty()) __builtin_trap();
  return 0;
}
