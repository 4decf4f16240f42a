// libFuzzer target: the [[schedule]] entries of a serve configuration (report/schedule.h) and
// the cron-like `when`. Any text parses to jobs or to an error naming a line; nothing throws;
// a parsed `when` always finds its next time without looping forever.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "report/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto jobs = flowscope::report::parse_schedule(text, "fuzz.toml");
  if (!jobs && jobs.error().message.empty()) __builtin_trap();  // every error says what is wrong
  if (jobs) {
    for (const auto& j : *jobs) {
      if (j.command.empty()) __builtin_trap();
      (void)j.when.next_after(flowscope::time_from_ms(1'764'547'200'000), {});
    }
  }
  // The text itself as a `when` (one line of it).
  const std::string_view line = text.substr(0, std::min<std::size_t>(text.find('\n'), 200));
  if (auto w = flowscope::report::CronWhen::parse(line); w) {
    (void)w->next_after(flowscope::time_from_ms(0), {});
  }
  return 0;
}
