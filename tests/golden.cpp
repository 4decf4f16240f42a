#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.h"

namespace flowscope::testing {

std::string check_golden(const std::string& relative, const std::string& actual) {
  std::filesystem::path path =
      std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "tests/golden" / relative;
  const char* update = std::getenv("FLOWSCOPE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "golden file " + path.string() +
           " is missing; run the test with FLOWSCOPE_UPDATE_GOLDEN=1 to create it";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string expected = ss.str();
  if (expected == actual) return "";
  std::size_t line = 1, i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) {
    if (expected[i] == '\n') ++line;
    ++i;
  }
  return "output differs from " + path.string() + " at line " + std::to_string(line) +
         "; if the change is intended, rerun with FLOWSCOPE_UPDATE_GOLDEN=1 and review the diff";
}

}  // namespace flowscope::testing
