#pragma once
// The scheduler behind `flowscope serve`'s [[schedule]] jobs and `flowscope schedule`: decides
// which jobs are due on an injected clock, runs them through an injected runner, and keeps what
// survives a restart in a state directory (the store's data directory):
//   schedule-state.json     per job: the last due time that completed, runs and failures
//   schedule-history.jsonl  one line per run: job, due, start, duration, outcome, exit code,
//                           output files, message
// Rules (docs/reports.md "Scheduler"): a job runs once per due time; due times missed while the
// server was down run once at the next start (the latest of them; catch_up = false skips them);
// a job seen for the first time waits for its next due time; a run interrupted by a crash did
// not complete and is caught up once.
//
// Not thread-safe: one thread calls load/tick/run_now (serve's scheduler thread, or the CLI);
// snapshot() may be called from others (the /metrics handler) and takes the lock.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "report/schedule.h"

namespace flowscope::report {

struct JobResult {
  bool ok = false;
  int exit_code = 0;
  std::vector<std::string> outputs;  // files the run wrote (a report's lines on stdout)
  std::string message;               // the last line of stderr on failure
};
using JobRunner = std::function<JobResult(const ScheduleJob& job, TimeMs due)>;
using Clock = std::function<TimeMs()>;

struct RunRecord {
  std::string job;
  TimeMs due{};
  TimeMs started{};
  std::int64_t duration_ms = 0;
  bool caught_up = false;  // a due time missed while down, run at start
  bool manual = false;     // `flowscope schedule run NAME`
  JobResult result;
};
nlohmann::json to_json(const RunRecord& r);

struct JobStatus {
  std::string name;
  std::string when;
  std::string kind;
  TimeMs next{};
  std::optional<TimeMs> last_due;  // the last due time that completed
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;
  std::int64_t last_duration_ms = 0;
  bool last_ok = true;
};

class Scheduler {
 public:
  Scheduler(std::vector<ScheduleJob> jobs, std::filesystem::path state_dir, TimeZoneRef zone,
            JobRunner runner, Clock clock);

  // Reads the state file (a missing one is a first start) and computes each job's next due
  // time as of now. Fails on an unreadable or corrupt state file, naming it.
  Result<void> load();
  // Runs every job whose due time has come, in configuration order, each at most once. Returns
  // the runs.
  std::vector<RunRecord> tick();
  // Runs job `name` now, whatever its time (`flowscope schedule run`); its schedule is unchanged.
  Result<RunRecord> run_now(const std::string& name);
  // The earliest next due time over the jobs (TimeMs::max() without jobs).
  TimeMs next_due() const;
  std::vector<JobStatus> snapshot() const;

  // The last `limit` runs of the history file in `state_dir`, oldest first (0: all).
  static Result<std::vector<nlohmann::json>> history(const std::filesystem::path& state_dir,
                                                     std::size_t limit = 0);

 private:
  RunRecord run(std::size_t idx, TimeMs due, bool caught_up, bool manual);
  TimeZoneRef zone_of(const ScheduleJob& job) const { return job.zone ? *job.zone : zone_; }
  Result<void> save() const;

  std::vector<ScheduleJob> jobs_;
  std::filesystem::path dir_;
  TimeZoneRef zone_;
  JobRunner runner_;
  Clock clock_;
  mutable std::mutex mu_;
  std::vector<JobStatus> status_;  // GUARDED_BY(mu_), one per job
};

}  // namespace flowscope::report
