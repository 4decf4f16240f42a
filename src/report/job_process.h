#pragma once
// Runs one scheduled job as a child flowscope process (`flowscope <command...>`): the
// scheduler's runner for serve and for `flowscope schedule run`. A child keeps a failing or
// crashing job away from the collector, and makes "any flowscope subcommand" schedulable. Its
// stdout is read for the files it wrote (one path per line, as `flowscope report` prints them);
// its stderr goes to LOG_DIR/<job>.log (appended). Blocks until the child exits; any thread.

#include <filesystem>
#include <string>
#include <vector>

#include "report/scheduler.h"

namespace flowscope::report {

struct JobProcessOptions {
  std::filesystem::path executable;  // the flowscope binary (/proc/self/exe)
  std::filesystem::path log_dir;     // created if missing
  std::string datadir;               // for {datadir}
  TimeZoneRef zone;
};

JobResult run_job_process(const JobProcessOptions& options, const ScheduleJob& job, TimeMs due);

}  // namespace flowscope::report
