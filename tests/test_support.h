#pragma once
// Helpers shared by tests: running the built `flowscope` binary and comparing output with
// golden files under tests/golden/ (rewritten with FLOWSCOPE_UPDATE_GOLDEN=1).

#include <filesystem>
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

// The shared corpus: $FLOWSCOPE_CORPUS, else tests/data/corpus in the source tree
// (tests/data/corpus/README.md). Tests that need it skip with the reason when it is absent.
std::filesystem::path corpus_root();

// Runs `command` through /bin/sh and returns its standard output ("" if it cannot start).
std::string run_shell(const std::string& command);

// A UDP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_udp_port();

// Compares `actual` with tests/golden/<relative>; with FLOWSCOPE_UPDATE_GOLDEN=1 rewrites the
// file instead. Returns "" when they match, else a description of the first difference.
std::string check_golden(const std::string& relative, const std::string& actual);

}  // namespace flowscope::testing
