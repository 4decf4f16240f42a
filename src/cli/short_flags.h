#pragma once
// One meaning per short option letter across flowscope's subcommands (docs/packaging.md
// "Command-line conventions" has the table and the incumbents each letter follows). A letter
// that a subcommand used for something else before is registered there as a hidden "moved"
// option: using it is a usage error that names the new spelling, so that an old command line
// (`flowscope stat -w 5m`) never silently does something else. FlowTraq's letters keep their
// meaning under the ftsq/ftstat/ftum names (flowtraq_names.h rewrites them to long names).
// Called while the command line is built, on the main thread.

#include <string>

#include <CLI/CLI.hpp>

namespace flowscope::cli {

// The store's data directory: -d, primary long name --data-dir, --dir accepted (both were in use).
inline constexpr const char* kDataDirOption = "-d,--data-dir,--dir";

// Registers `-<letter>` on `cmd` as moved: any use, with or without a value, ends the parse
// with the usage error "-<letter> is no longer accepted by `flowscope <cmd>`: <hint>".
void add_moved_flag(CLI::App& cmd, char letter, const std::string& hint);

// A check for `-c N` where -c meant something else before: a value that is not a count is the
// usage error "-c takes a count now: <hint>" instead of a conversion error.
CLI::Validator count_or_moved(const std::string& hint);

// "A short option means the same in every subcommand: -B --buffer-size, -C --config, ..." from
// the tree below `root` (each letter with its first long name), for `flowscope --help`.
std::string short_option_summary(const CLI::App& root);

// True for the options add_moved_flag registered (not part of the option table).
bool is_moved_flag(const CLI::Option& option);

}  // namespace flowscope::cli
