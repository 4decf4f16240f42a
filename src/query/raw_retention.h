#pragma once
// The part of a query's window that raw retention dropped (docs/query.md "Raw retention"):
// when a window begins before the store keeps raw sessions (now - store.json `keep raw`) and
// the answer was read from raw sessions, the answer lacks [window begin, now - keep raw). The
// CLI says so on stderr and in its JSON output, the HTTP API in its JSON envelope.
//
// Pure functions; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/time.h"

namespace flowscope::query {

struct MissingRange {
  std::int64_t from_ms = 0;  // the window's begin; INT64_MIN when it has none
  std::int64_t to_ms = 0;    // now - keep raw: the oldest raw session kept
  std::int64_t keep_ms = 0;  // the raw retention
};

// The range an answer from `source` ("raw", or what Backend::aggregate answered from: a
// rollup's name, "... + raw tail") lacks, for a window beginning at `begin_ms` asked at
// `now_ms` of a store keeping raw sessions `raw_keep_ms` (0: forever). nullopt when nothing is
// missing: retention keeps the whole window, or the answer came from rollups alone.
std::optional<MissingRange> raw_retention_gap(std::int64_t begin_ms, std::int64_t now_ms,
                                              std::int64_t raw_keep_ms, std::string_view source);

// {"from": time or null, "to": time, "reason": "raw_retention", "keep_raw": "1d"}, times as
// the JSON output writes them (core/time.h format_time in `zone`), plus "from_ms"/"to_ms".
nlohmann::json missing_json(const MissingRange& missing, const TimeZoneRef& zone = {});

// The stderr note of the CLI, without its "flowscope: " prefix and newline; also from the JSON
// form (a server's answer to `query -srv`/`stat -srv`).
std::string missing_note(const MissingRange& missing, const TimeZoneRef& zone = {});
std::string missing_note(const nlohmann::json& missing);

}  // namespace flowscope::query
