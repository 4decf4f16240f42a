#pragma once
// The subcommands of `flowscope`. Each lives in <name>_command.cpp and registers itself on the
// top-level app with its options, help text and Examples footer (docs/conventions.md "The command
// line"). Called once from main() on the main thread.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace flowscope::cli {

void register_fields(CLI::App& app);
void register_decode(CLI::App& app);
void register_gen(CLI::App& app);
void register_store(CLI::App& app);
void register_import(CLI::App& app);
void register_ipinfo(CLI::App& app);
void register_serve(CLI::App& app);
void register_user(CLI::App& app);
void register_query(CLI::App& app);
void register_stat(CLI::App& app);
void register_export(CLI::App& app);
void register_capture(CLI::App& app);
void register_tcpflow(CLI::App& app);
void register_report(CLI::App& app);
void register_schedule(CLI::App& app);
// `gen sessions`, under the `gen` subcommand (gen_sessions_command.cpp).
void register_gen_sessions(CLI::App& gen);
// `completion bash|zsh` and the build's hidden `man --out DIR` (doc_command.cpp); registered last,
// they walk the tree the others built.
void register_doc(CLI::App& app);

// Builds the whole command line; `main` and the CLI tests share it.
void register_all(CLI::App& app);

// When `args` (argv as main parsed it) name no subcommand but start with a word that is not one,
// "unknown subcommand 'serv'; did you mean 'serve'?" (or the list); "" otherwise.
std::string nearest_subcommand_hint(const CLI::App& app, const std::vector<std::string>& args);

// Exit codes: 0 ok, 1 runtime error, 2 usage error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Thrown by a subcommand's callback to end with a message the user can act on: what is wrong,
// where, and the fix. main() prints "flowscope: error: <message>" and exits with `code`.
// `flowscope tcpflow` outside CLI11: main() calls it when the binary is invoked as `tcpflow` or
// `flowscope-tcpflow`.
int tcpflow_main(int argc, char** argv);

struct UserError {
  std::string message;
  int code = kExitError;
};

}  // namespace flowscope::cli
