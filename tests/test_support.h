#pragma once
// Helpers shared by tests: running the built `flowscope` binary and comparing output with
// golden files under tests/golden/ (rewritten with FLOWSCOPE_UPDATE_GOLDEN=1).

#include <string>
#include <vector>

namespace flowscope::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the flowscope binary of this build with `args` (no shell), capturing stdout and stderr.
CommandResult run_flowscope(const std::vector<std::string>& args);

// Compares `actual` with tests/golden/<relative>; with FLOWSCOPE_UPDATE_GOLDEN=1 rewrites the
// file instead. Returns "" when they match, else a description of the first difference.
std::string check_golden(const std::string& relative, const std::string& actual);

}  // namespace flowscope::testing
