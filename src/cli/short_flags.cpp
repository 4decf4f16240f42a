#include "cli/short_flags.h"

#include <map>
#include <vector>

namespace flowscope::cli {
namespace {

// The description that marks a moved option; never shown (the option is hidden).
constexpr const char* kMoved = "(moved short option)";

std::string command_path(const CLI::App& cmd) {
  std::string path = cmd.get_name();
  for (const CLI::App* p = cmd.get_parent(); p != nullptr && p->get_parent() != nullptr;
       p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
}

}  // namespace

void add_moved_flag(CLI::App& cmd, char letter, const std::string& hint) {
  const std::string name = std::string("-") + letter;
  const std::string message =
      name + " is no longer accepted by `flowscope " + command_path(cmd) + "`: " + hint;
  cmd.add_option_function<std::vector<std::string>>(
         name, [message](const std::vector<std::string>&) { throw CLI::ValidationError(message); },
         kMoved)
      ->expected(0, 1)
      ->group("");
}

CLI::Validator count_or_moved(const std::string& hint) {
  return CLI::Validator(
      [hint](std::string& value) -> std::string {
        const bool digits =
            !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
        return digits ? std::string() : "-c takes a count now, not \"" + value + "\": " + hint;
      },
      "N");
}

namespace {

void collect_letters(const CLI::App& app, std::map<std::string, std::string>& letters) {
  for (const CLI::Option* o : app.get_options()) {
    if (is_moved_flag(*o) || o->get_lnames().empty()) continue;
    for (const std::string& s : o->get_snames()) {
      if (s != "h") letters.emplace(s, o->get_lnames().front());
    }
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    collect_letters(*sub, letters);
  }
}

}  // namespace

std::string short_option_summary(const CLI::App& root) {
  std::map<std::string, std::string> letters;
  collect_letters(root, letters);
  std::string text = "A short option means the same in every subcommand (docs/packaging.md):";
  const char* sep = " ";
  for (const auto& [letter, long_name] : letters) {
    text += sep + ("-" + letter) + " --" + long_name;
    sep = ", ";
  }
  return text +
         ". FlowTraq's letters keep their meanings under ftsq, ftstat and ftum, tcpflow's under "
         "flowscope-tcpflow.";
}

bool is_moved_flag(const CLI::Option& option) { return option.get_description() == kMoved; }

}  // namespace flowscope::cli
