// `flowscope tcpflow`: a drop-in for tcpflow 1.6.1 (docs/tcpflow.md). tcpflow's command line is
// getopt style (`-Fc`, `-e http`, `-b100`, a trailing BPF expression), which CLI11 cannot express,
// so CLI11 only routes the words after `tcpflow` to capture::tcpflow::parse_tcpflow_args. The
// same entry point serves the binary invoked as `tcpflow` (main() dispatches on argv[0]).
#include <cstdio>
#include <string>
#include <vector>

#include "capture/tcpflow/tcpflow_run.h"
#include "cli/commands.h"

namespace flowscope::cli {

static_assert(kExitUsage == 2, "capture::tcpflow::tcpflow_command_line returns 2 on a usage error");

int run_tcpflow_args(const std::string& program, const std::vector<std::string>& args) {
  return capture::tcpflow::tcpflow_command_line(program, args);
}

int tcpflow_main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return run_tcpflow_args(argv[0], args);
}

void register_tcpflow(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "tcpflow",
      "Reassemble TCP streams into files, as tcpflow 1.6.1 does (same options, names, contents "
      "and DFXML report)");
  // Every word after `tcpflow` is tcpflow's: no CLI11 options, not even -h (tcpflow's -h/-hh).
  cmd->set_help_flag();
  cmd->prefix_command();
  cmd->allow_extras();
  cmd->footer(
      "Options are tcpflow's (run 'flowscope tcpflow -h' or -hh; docs/tcpflow.md). The binary\n"
      "also behaves as tcpflow when invoked under that name (build/<type>/bin/tcpflow).\n\n"
      "Examples:\n"
      "  flowscope tcpflow -r capture.pcap -o out           one file per TCP stream in out/\n"
      "  flowscope tcpflow -r capture.pcap -o out -e http   plus HTTP bodies, gunzipped\n"
      "  flowscope tcpflow -r capture.pcap -c port 80       print streams to the console\n"
      "  flowscope tcpflow -r a.pcap -R b.pcap -o out -Fk   finish a.pcap's flows from b.pcap\n"
      "  flowscope tcpflow -r capture.pcap -o out -T %A/%a-%B/%b%C%c   a directory per host");
  cmd->callback([cmd] {
    const int code = run_tcpflow_args("flowscope tcpflow", cmd->remaining());
    if (code != kExitOk) throw UserError{"tcpflow failed (see the messages above)", code};
  });
}

}  // namespace flowscope::cli
