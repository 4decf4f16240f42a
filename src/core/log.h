#pragma once
// Logging (docs/conventions.md "Logging and errors users read"): spdlog with one named logger per
// module ("decode", "store", ...), all writing to stderr so results on stdout stay clean.
// Per-packet events go to counters, not here. init_logging() is called once by main() before
// threads start; loggers may then be used from any thread (spdlog's _mt sinks).

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/result.h"

namespace flowscope {

// "trace", "debug", "info", "warn", "error", "off". The default for the CLI is "warn".
Result<void> init_logging(std::string_view level);

// The logger of a module, created on first use with the settings of init_logging().
std::shared_ptr<spdlog::logger> logger(std::string_view module);

}  // namespace flowscope
