// `flowscope completion bash|zsh` and `flowscope man --out DIR`: the shell completions and the
// manual pages, generated from the option definitions of every subcommand (the CLI11 tree that
// register_all builds), so that they cannot drift from `--help`. The build runs both and
// installs the output (packaging/CMakeLists.txt); docs/packaging.md describes the layout.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/cli_doc.h"

namespace flowscope::cli {
namespace {

// The subcommands a user sees (hidden ones have an empty group), in definition order.
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

const CLI::App& root_of(const CLI::App& app) {
  const CLI::App* a = &app;
  while (a->get_parent() != nullptr) a = a->get_parent();
  return *a;
}

std::vector<std::string> option_names(const CLI::Option& o) {
  std::vector<std::string> names;
  for (const std::string& s : o.get_snames()) names.push_back("-" + s);
  for (const std::string& l : o.get_lnames()) names.push_back("--" + l);
  return names;
}

std::vector<const CLI::Option*> named_options(const CLI::App& app) {
  return app.get_options(
      [](const CLI::Option* o) { return o->nonpositional() && !o->get_group().empty(); });
}

// What the user sees of `app` and the commands below it (core/cli_doc.h).
CommandDoc describe(const CLI::App& app) {
  CommandDoc doc{app.get_name(), app.get_description(), app.get_footer(), {}, {}, {}};
  for (const CLI::Option* o : named_options(app)) {
    doc.options.push_back({option_names(*o), o->get_type_name(), o->get_description(),
                           o->get_default_str(), o->get_required()});
  }
  for (const CLI::Option* o : app.get_options(
           [](const CLI::Option* p) { return p->get_positional() && !p->nonpositional(); })) {
    doc.positionals.push_back(
        {o->get_name(true), o->get_description(), o->get_items_expected_max() > 1});
  }
  for (const CLI::App* s : visible_subcommands(app)) doc.subcommands.push_back(describe(*s));
  return doc;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw UserError{"cannot write " + path.string()};
}

}  // namespace

std::string nearest_subcommand_hint(const CLI::App& app, const std::vector<std::string>& args) {
  // The first word that is neither an option nor the value of --log-level or --log-format.
  std::string word;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--log-level" || args[i] == "--log-format") {
      ++i;
      continue;
    }
    if (args[i].empty() || args[i][0] == '-') continue;
    word = args[i];
    break;
  }
  if (word.empty()) return "";
  std::vector<std::string> names;
  for (const CLI::App* s : visible_subcommands(app)) {
    if (s->get_name() == word) return "";  // a real subcommand: CLI11's message is the right one
    names.push_back(s->get_name());
  }
  const std::string best = nearest_name(word, names);
  if (!best.empty()) return "unknown subcommand '" + word + "'; did you mean '" + best + "'?";
  return "unknown subcommand '" + word + "'; the subcommands are: " + join_names(names, ", ");
}

void register_doc(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  CLI::App* completion = app.add_subcommand(
      "completion", "print the bash or zsh completion script, made from the option definitions");
  completion->add_option("shell", *shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->footer(
      "Examples:\n"
      "  source <(flowscope completion bash)\n"
      "  flowscope completion zsh > ~/.zfunc/_flowscope");
  completion->callback([completion, shell] {
    const CommandDoc root = describe(root_of(*completion));
    std::cout << (*shell == "bash" ? bash_completion(root) : zsh_completion(root));
  });

  auto dir = std::make_shared<std::string>();
  CLI::App* man = app.add_subcommand("man", "write the manual pages (roff) into a directory");
  man->group("");  // for the build (packaging/CMakeLists.txt), not a user command
  man->add_option("--out", *dir, "the directory to write flowscope.1 and the others into")
      ->required();
  man->callback([man, dir] {
    const CommandDoc root = describe(root_of(*man));
    std::filesystem::create_directories(*dir);
    write_file(std::filesystem::path(*dir) / "flowscope.1", man_main_page(root, FLOWSCOPE_VERSION));
    for (const CommandDoc& s : root.subcommands) {
      write_file(std::filesystem::path(*dir) / (man_page_name(s.name) + ".1"),
                 man_command_page(s.name, s, FLOWSCOPE_VERSION));
    }
    // The other names of the binary (main.cpp) point at the page of what they run.
    for (const auto& [alias, command] :
         {std::pair{"ftsq", "query"}, std::pair{"ftstat", "stat"}, std::pair{"ftum", "user"}}) {
      write_file(std::filesystem::path(*dir) / (std::string(alias) + ".1"),
                 ".so man1/flowscope-" + std::string(command) + ".1\n");
    }
  });
}

}  // namespace flowscope::cli
