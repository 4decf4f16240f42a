#pragma once
// The shell completions (bash, zsh) and the manual pages (roff) of `flowscope`, generated from
// a plain description of its command line, so that they cannot drift from `--help`: the cli
// turns its CLI11 tree into a CommandDoc (visible subcommands and options only) and calls these
// (`flowscope completion`, and `flowscope man`, which the build runs; docs/packaging.md). Also
// the nearest-name suggestion for a mistyped subcommand. Pure functions: any thread.

#include <string>
#include <string_view>
#include <vector>

namespace flowscope {

struct OptionDoc {
  std::vector<std::string> names;  // "-d", "--data-dir": short names first, then long
  std::string type_name;           // as --help shows it ("TEXT", "UINT"); empty for a flag
  std::string description;
  std::string default_text;  // empty: no default shown
  bool required = false;
};

struct PositionalDoc {
  std::string name;  // as --help names it ("scenario")
  std::string description;
  bool many = false;  // takes more than one value
};

// One command: the root (`flowscope`, name "") or a subcommand, with what the user sees of it.
struct CommandDoc {
  std::string name;
  std::string description;
  std::string footer;  // prose, then "Examples:" and one example a line
  std::vector<OptionDoc> options;
  std::vector<PositionalDoc> positionals;
  std::vector<CommandDoc> subcommands;  // in definition order
};

// The completion scripts for `root` (`source <(flowscope completion bash)`).
std::string bash_completion(const CommandDoc& root);
std::string zsh_completion(const CommandDoc& root);

// "flowscope-gen-flows" for the command path "gen flows".
std::string man_page_name(const std::string& path);
// flowscope.1: the root's options, one line per subcommand, program names, files, see also.
std::string man_main_page(const CommandDoc& root, std::string_view version);
// flowscope-COMMAND.1 for a subcommand of the root, with every command below it.
std::string man_command_page(const std::string& command, const CommandDoc& app,
                             std::string_view version);

// Text for roff: backslashes as \e, hyphens as \- (so that options copy and paste), and a line
// that would start with a control character protected by \&.
std::string roff_escape(const std::string& text);

// The name of `names` that `word` starts, or the nearest within two edits; "" when none is.
std::string nearest_name(const std::string& word, const std::vector<std::string>& names);
// The names joined by `separator`.
std::string join_names(const std::vector<std::string>& names, const char* separator);

}  // namespace flowscope
