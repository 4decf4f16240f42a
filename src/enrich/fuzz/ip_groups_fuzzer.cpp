// libFuzzer target: IP group files, trafMon's ipInfo.ini and flowscope's TOML form
// (enrich/ip_groups.h). The first byte picks the syntax. A parsed table answers lookups and
// ancestry for every group it holds without a crash; errors say what is wrong.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "enrich/ip_groups.h"

using flowscope::enrich::IpGroups;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto g = (data[0] & 1) ? IpGroups::from_toml(text, "fuzz.toml")
                         : IpGroups::from_ini(text, "ipInfo.ini");
  if (!g) {
    if (g.error().message.empty()) __builtin_trap();
    return 0;
  }
  for (const auto& group : g->groups()) {
    if (g->group(group.id) == nullptr) __builtin_trap();
    if (!g->is_within(group.id, group.id)) __builtin_trap();
    (void)g->find(group.name);
  }
  (void)g->lookup(flowscope::IpAddress::v4(0x0A000001u));
  return 0;
}
