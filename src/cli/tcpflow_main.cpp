// flowscope-tcpflow (and the build's bin/tcpflow link to it): the tcpflow 1.6.1 drop-in as an
// executable of its own, `flowscope tcpflow` without the rest of flowscope. It links only the
// tcpflow module, so it maps a handful of shared libraries where the flowscope binary maps fifty
// (nDPI, the store, the server, the ClickHouse client...): that is most of the difference in
// peak memory against tcpflow (docs/tcpflow.md "Performance").
#include <string>
#include <vector>

#include "capture/tcpflow/tcpflow_run.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return flowscope::capture::tcpflow::tcpflow_command_line(argc > 0 ? argv[0] : "tcpflow", args);
}
