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

#include "capture/tcpflow/tcpflow_options.h"

namespace flowscope::capture::tcpflow {

// Returns the process exit code (0 ok, 1 error). Messages go to `err`; console output (-c) and
// help to `out`.
int run_tcpflow(const TcpflowOptions& options, const std::string& command_line, std::FILE* out,
                std::FILE* err);

}  // namespace flowscope::capture::tcpflow
