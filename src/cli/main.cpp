// flowscope: network flow analytics. Entry point: builds the command line from the subcommands,
// turns errors into messages and exit codes (0 ok, 1 runtime error, 2 usage error).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/flowtraq_names.h"
#include "cli/query_common.h"
#include "cli/server_login.h"
#include "cli/short_flags.h"
#include "core/log.h"

int main(int argc, char** argv) {
  using namespace flowscope;
  // Invoked as `tcpflow` (the build's bin/tcpflow link) or `flowscope-tcpflow` (the installed
  // link, which leaves Debian's tcpflow alone): behave as `flowscope tcpflow`.
  if (argc > 0) {
    const std::string self = argv[0];
    const auto slash = self.rfind('/');
    const std::string name = self.substr(slash == std::string::npos ? 0 : slash + 1);
    if (name == "tcpflow" || name == "flowscope-tcpflow") {
      return cli::tcpflow_main(argc, argv);
    }
  }
  // Invoked as ftsq, ftstat or ftum (the installed links): FlowTraq's command lines.
  std::vector<std::string> raw(argv, argv + argc);
  const std::optional<std::string> flowtraq =
      argc > 0 ? cli::flowtraq_program(argv[0]) : std::nullopt;
  if (flowtraq) raw = cli::flowtraq_program_args(*flowtraq, {raw.begin() + 1, raw.end()});
  // Their CSV headers are FlowTraq's keywords (CLNIP, SRVPORT, ...).
  std::unique_ptr<std::streambuf> keyword_buf;
  std::streambuf* const cout_buf = std::cout.rdbuf();
  if (flowtraq && std::find(raw.begin(), raw.end(), "-c+") != raw.end()) {
    keyword_buf = cli::make_header_keyword_buf(cout_buf);
    std::cout.rdbuf(keyword_buf.get());
  }
  struct RestoreCout {
    std::streambuf* buf;
    ~RestoreCout() { std::cout.flush(), std::cout.rdbuf(buf); }
  } restore_cout{cout_buf};

  CLI::App app{"flowscope: collect, stitch, store and query network flows", "flowscope"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("flowscope ") + FLOWSCOPE_VERSION);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  std::string log_format = "text";
  app.add_option("--log-format", log_format,
                 "Log lines on stderr: text, or json (one object per line: time, level, logger, "
                 "message and fields)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.parse_complete_callback([&] {
    if (auto f = parse_log_format(log_format); f) set_log_format(*f);
    if (auto r = init_logging(log_level); !r) {
      throw CLI::ValidationError("--log-level", r.error().message);
    }
  });
  cli::register_all(app);
  app.footer("Run 'flowscope <subcommand> --help' for the options of each.\n\n" +
             cli::short_option_summary(app) +
             "\n\nExamples:\n"
             "  flowscope fields                   list the fields filters and outputs use\n"
             "  flowscope fields --json            the same, as JSON");

  // FlowTraq's single-dash long options (-grp, -c+) in query/stat, as CLI11 reads them.
  std::vector<char*> raw_ptrs;
  for (std::string& a : raw) raw_ptrs.push_back(a.data());
  std::vector<std::string> args =
      cli::flowtraq_style_args(static_cast<int>(raw_ptrs.size()), raw_ptrs.data());
  // and FlowTraq's -srv/-un/-up/-us, for the commands that reach a server.
  args = cli::translate_flowtraq_options(args);
  std::vector<char*> arg_ptrs;
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  try {
    app.parse(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
  } catch (const CLI::ParseError& e) {
    // A mistyped subcommand: name the nearest one instead of CLI11's "not expected".
    if (const std::string hint = cli::nearest_subcommand_hint(app, args); !hint.empty()) {
      std::fprintf(stderr, "flowscope: error: %s\n", hint.c_str());
      return cli::kExitUsage;
    }
    // CLI11 prints the message (help and version too); its own codes become ours.
    return app.exit(e) == 0 ? cli::kExitOk : cli::kExitUsage;
  } catch (const cli::UserError& e) {
    log_always(spdlog::level::err, "flowscope", "flowscope: error: " + e.message, e.message,
               {{"exit_code", e.code}});
    return e.code;
  } catch (const std::exception& e) {
    log_always(spdlog::level::err, "flowscope", std::string("flowscope: error: ") + e.what(),
               e.what(), {{"exit_code", cli::kExitError}});
    return cli::kExitError;
  }
  return cli::kExitOk;
}
