#include "server/schedule_service.h"

#include <fmt/format.h>

#include "core/log.h"

#include "report/job_process.h"

namespace flowscope::server {

Result<std::unique_ptr<ScheduleService>> ScheduleService::start(
    std::vector<report::ScheduleJob> jobs, const std::filesystem::path& datadir,
    std::filesystem::path executable, report::Clock clock) {
  std::unique_ptr<ScheduleService> s(new ScheduleService());
  if (executable.empty()) {
    std::error_code ec;
    executable = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return Error{ErrorCode::Io, "cannot find the flowscope binary: " + ec.message()};
  }
  report::JobProcessOptions po;
  po.executable = executable;
  po.log_dir = datadir / "schedule-logs";
  po.datadir = datadir.string();
  s->clock_ = clock;
  s->scheduler_ = std::make_unique<report::Scheduler>(
      std::move(jobs), datadir, TimeZoneRef::utc(),
      [po](const report::ScheduleJob& job, TimeMs due) {
        return report::run_job_process(po, job, due);
      },
      clock);
  if (auto r = s->scheduler_->load(); !r) return r.error();
  auto log = logger("schedule");
  for (const auto& st : s->scheduler_->snapshot()) {
    log->info("job {} ({}, when \"{}\"): next run {}", st.name, st.kind, st.when,
              st.next == TimeMs::max() ? std::string("never") : format_time(st.next));
  }
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  return s;
}

ScheduleService::~ScheduleService() { stop(); }

void ScheduleService::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ScheduleService::loop() {
  auto log = logger("schedule");
  for (;;) {
    for (const auto& r : scheduler_->tick()) {
      const std::string files = fmt::format("{}", fmt::join(r.result.outputs, ", "));
      if (r.result.ok) {
        log->info("job {} (due {}{}) ok in {} ms{}{}", r.job, format_time(r.due),
                  r.caught_up ? ", caught up after downtime" : "", r.duration_ms,
                  files.empty() ? "" : ": ", files);
      } else {
        log->error(
            "job {} (due {}) failed with exit code {} in {} ms: {} (log: "
            "schedule-logs/{}.log)",
            r.job, format_time(r.due), r.result.exit_code, r.duration_ms, r.result.message, r.job);
      }
    }
    const TimeMs next = scheduler_->next_due();
    const TimeMs now = clock_();
    // Wake at the next due time, and at least every minute (clock changes, suspend).
    const auto wait =
        std::clamp<std::int64_t>(next == TimeMs::max() ? 60'000 : (next - now).count(), 50, 60'000);
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return stop_; })) return;
  }
}

void ScheduleService::metrics(MetricsWriter& w) const {
  const auto jobs = scheduler_->snapshot();
  w.family("flowscope_schedule_runs_total", "counter", "scheduled job runs, per job");
  for (const auto& j : jobs)
    w.sample("flowscope_schedule_runs_total", static_cast<double>(j.runs), {{"job", j.name}});
  w.family("flowscope_schedule_failures_total", "counter", "scheduled job runs that failed");
  for (const auto& j : jobs) {
    w.sample("flowscope_schedule_failures_total", static_cast<double>(j.failures),
             {{"job", j.name}});
  }
  w.family("flowscope_schedule_last_duration_seconds", "gauge", "duration of the job's last run");
  for (const auto& j : jobs) {
    w.sample("flowscope_schedule_last_duration_seconds",
             static_cast<double>(j.last_duration_ms) / 1000.0, {{"job", j.name}});
  }
  w.family("flowscope_schedule_last_success", "gauge", "1 when the job's last run succeeded");
  for (const auto& j : jobs)
    w.sample("flowscope_schedule_last_success", j.last_ok ? 1 : 0, {{"job", j.name}});
  w.family("flowscope_schedule_next_run_seconds", "gauge", "when the job runs next (Unix time)");
  for (const auto& j : jobs) {
    if (j.next == TimeMs::max()) continue;
    w.sample("flowscope_schedule_next_run_seconds", static_cast<double>(to_ms(j.next)) / 1000.0,
             {{"job", j.name}});
  }
}

}  // namespace flowscope::server
