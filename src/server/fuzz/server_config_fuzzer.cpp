// libFuzzer target: `flowscope serve` configuration files (TOML, server/server_config.h). Any
// text parses to a configuration or an error that names a line of the input; nothing throws.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/server_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = flowscope::server::parse_server_config(text, "fuzz.toml", "/nonexistent");
  if (!c && c.error().message.empty()) __builtin_trap();  // every error says what is wrong
  return 0;
}
