#pragma once
// Where the enrich tests find their shared inputs: $FLOWSCOPE_GEOIP, else tests/data/geoip in
// the source tree (as corpus_dir() does for captures).

#include <cstdlib>
#include <filesystem>

namespace flowscope::testing {

inline std::filesystem::path geoip_dir() {
  if (const char* env = std::getenv("FLOWSCOPE_GEOIP"); env != nullptr && *env != '\0') return env;
  return std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "tests" / "data" / "geoip";
}

inline std::filesystem::path source_dir() { return FLOWSCOPE_SOURCE_DIR; }

}  // namespace flowscope::testing
