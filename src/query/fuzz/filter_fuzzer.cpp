// libFuzzer target: both filter syntaxes. The first byte picks the syntax; the rest is the
// filter. Checks: a parsed filter compiles, and its canonical text (to_text) parses back to the
// same tree, so what the server echoes is what ran.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "query/compiled_filter.h"
#include "query/filter_parser.h"

using namespace flowscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  query::FilterContext ctx;
  ctx.time = TimeContext{time_from_ms(1795000000123), TimeZoneRef::utc()};
  ctx.groups = [](std::string_view name) -> std::optional<std::uint32_t> {
    if (name == "Campus") return 7;
    return std::nullopt;
  };
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed =
      (data[0] & 1) ? query::parse_nfdump_filter(text, ctx) : query::parse_filter(text, ctx);
  if (!parsed) {
    if (parsed.error().where && parsed.error().where->offset > text.size()) __builtin_trap();
    return 0;
  }
  if (!query::CompiledFilter::compile(*parsed)) __builtin_trap();
  auto again = query::parse_filter(query::to_text(*parsed), ctx);
  if (!again || !query::same_filter(*again, *parsed)) __builtin_trap();
  return 0;
}
