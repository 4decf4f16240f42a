#pragma once
// `flowscope query -srv` and `flowscope stat -srv`: the spec built from the same options as a
// local query is sent to a `flowscope serve` (docs/protocol.md), which runs it on its store
// within the user's permissions and streams the output, rendered in the requested format, back
// to stdout. Ctrl-C sends Cancel. Main thread only.

#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/query_common.h"

namespace flowscope::cli {

// Returns the server's final (Done) frame. Throws UserError: connection or login refused
// (exit 1), a bad filter or spec (exit 2).
nlohmann::json run_remote(std::string_view kind, nlohmann::json spec, const CommonQueryOptions& opt,
                          const nlohmann::json& extra = nlohmann::json::object());

}  // namespace flowscope::cli
