#pragma once
// Runs `flowscope tcpflow` end to end: reads -r files (then -R files, finishing flows only), or
// captures live from -i, through the BPF expression; decodes frames as tcpflow does, reassembles
// TCP streams into files, writes unprocessed packets with -w, and the DFXML report. SIGINT,
// SIGTERM and SIGHUP stop the run at the next packet; flows are then closed and the report
// finished, so it is always a well-formed document.
//
// Call from the main thread (it installs signal handlers for the duration of the run).

#include <cstdio>
#include <string>
#include <vector>

#include "capture/tcpflow/tcpflow_options.h"

namespace flowscope::capture::tcpflow {

// Returns the process exit code (0 ok, 1 error). Messages go to `err`; console output (-c) and
// help to `out`.
int run_tcpflow(const TcpflowOptions& options, const std::string& command_line, std::FILE* out,
                std::FILE* err);

// tcpflow's whole command line: parses `args` (the words after the program name), reports a
// usage error on stderr (exit 2), otherwise runs. `program` is argv[0] ("flowscope tcpflow" for
// the subcommand, whose messages then say "tcpflow" as tcpflow's do). Serves `flowscope tcpflow`
// and the lean flowscope-tcpflow executable (src/cli/tcpflow_main.cpp, docs/tcpflow.md).
int tcpflow_command_line(const std::string& program, const std::vector<std::string>& args);

}  // namespace flowscope::capture::tcpflow
