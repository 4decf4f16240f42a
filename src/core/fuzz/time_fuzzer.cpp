// libFuzzer target: time points, windows and durations. The first byte picks the zone, so DST
// rules are exercised; the rest is the expression. Checks: windows are never empty or inverted,
// and a formatted time parses back to the same instant.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/time.h"

using namespace flowscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const TimeZoneRef kZones[] = {TimeZoneRef::utc(), *TimeZoneRef::named("Europe/Brussels"),
                                       *TimeZoneRef::named("America/New_York"),
                                       *TimeZoneRef::named("Australia/Lord_Howe")};
  const TimeZoneRef& zone = kZones[data[0] % 4];
  TimeContext ctx{time_from_ms(1795000000123), zone};  // 2026-11-18, fixed
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  if (auto w = parse_window(text, ctx)) {
    if (!(w->begin < w->end)) __builtin_trap();
  }
  // Round trip where the formatted year stays inside what the parser accepts (1970-9999).
  if (auto t = parse_time(text, ctx);
      t && to_ms(*t) > 86400000LL * 2 && to_ms(*t) < 253402300799000LL - 86400000LL * 2) {
    auto again = parse_time(format_time(*t, zone), ctx);
    if (!again || *again != *t) __builtin_trap();
  }
  if (auto d = parse_duration(text)) {
    auto again = parse_duration(format_duration(*d));
    if (!again || *again != *d) __builtin_trap();
  }
  return 0;
}
