#pragma once
// The built-in scheduler of `flowscope serve` (docs/reports.md "Scheduler"): a thread that runs
// the configuration's [[schedule]] jobs (reports, retention, IP-info refresh, any flowscope
// subcommand) at their times as child processes, through report::Scheduler, with its state and
// history in the data directory so that restarts neither repeat nor lose a run. Logs each run
// (logger "schedule") and exports counters for /metrics.
//
// start() and stop() from the server's thread; metrics() from any thread.
// Internal to flowscope_server: other modules use its public headers.

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/metrics.h"

#include "report/scheduler.h"

namespace flowscope::server {

class ScheduleService {
 public:
  // `executable`: the flowscope binary the jobs run (empty: /proc/self/exe). Fails when the
  // state file in `datadir` is corrupt.
  static Result<std::unique_ptr<ScheduleService>> start(std::vector<report::ScheduleJob> jobs,
                                                        const std::filesystem::path& datadir,
                                                        std::filesystem::path executable,
                                                        report::Clock clock);
  ~ScheduleService();
  ScheduleService(const ScheduleService&) = delete;
  ScheduleService& operator=(const ScheduleService&) = delete;

  // Waits for a running job to end, then returns.
  void stop();
  void metrics(MetricsWriter& w) const;

 private:
  ScheduleService() = default;
  void loop();

  std::unique_ptr<report::Scheduler> scheduler_;
  report::Clock clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace flowscope::server
