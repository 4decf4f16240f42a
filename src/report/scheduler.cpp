#include "report/scheduler.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace flowscope::report {
namespace {

constexpr const char* kStateFile = "schedule-state.json";
constexpr const char* kHistoryFile = "schedule-history.jsonl";

}  // namespace

nlohmann::json to_json(const RunRecord& r) {
  return {{"job", r.job},
          {"due", format_time(r.due)},
          {"started", format_time(r.started)},
          {"duration_ms", r.duration_ms},
          {"outcome", r.result.ok ? "ok" : "failed"},
          {"exit_code", r.result.exit_code},
          {"caught_up", r.caught_up},
          {"manual", r.manual},
          {"outputs", r.result.outputs},
          {"message", r.result.message}};
}

Scheduler::Scheduler(std::vector<ScheduleJob> jobs, std::filesystem::path state_dir,
                     TimeZoneRef zone, JobRunner runner, Clock clock)
    : jobs_(std::move(jobs)),
      dir_(std::move(state_dir)),
      zone_(zone),
      runner_(std::move(runner)),
      clock_(std::move(clock)) {
  for (const auto& j : jobs_) {
    JobStatus s;
    s.name = j.name;
    s.when = j.when.text();
    s.kind = j.kind;
    status_.push_back(std::move(s));
  }
}

Result<void> Scheduler::load() {
  const TimeMs now = clock_();
  nlohmann::json state = nlohmann::json::object();
  const auto path = dir_ / kStateFile;
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    try {
      state = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      return Error{ErrorCode::Parse,
                   fmt::format("{}: not a scheduler state file ({}); move it away to start "
                               "afresh",
                               path.string(), e.what())};
    }
  }
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    JobStatus& s = status_[i];
    const auto& js = state.contains("jobs") && state["jobs"].contains(jobs_[i].name)
                         ? state["jobs"][jobs_[i].name]
                         : nlohmann::json();
    if (js.is_object()) {
      s.runs = js.value("runs", std::uint64_t{0});
      s.failures = js.value("failures", std::uint64_t{0});
      if (js.contains("last_due_ms"))
        s.last_due = time_from_ms(js["last_due_ms"].get<std::int64_t>());
    }
    if (s.last_due) {
      s.next = jobs_[i].when.next_after(*s.last_due, zone_of(jobs_[i]));
      // Missed while down: due now (once) unless the job says not to catch up.
      if (s.next <= now && !jobs_[i].catch_up)
        s.next = jobs_[i].when.next_after(now, zone_of(jobs_[i]));
    } else {
      s.next = jobs_[i].when.next_after(now, zone_of(jobs_[i]));
    }
  }
  return ok();
}

std::vector<RunRecord> Scheduler::tick() {
  std::vector<RunRecord> ran;
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    TimeMs next, now = clock_();
    {
      std::lock_guard lock(mu_);
      next = status_[i].next;
    }
    if (next > now) continue;
    // The latest due time that has come: every missed one folds into this single run.
    TimeMs due = next;
    for (TimeMs t = jobs_[i].when.next_after(next, zone_of(jobs_[i])); t <= now;
         t = jobs_[i].when.next_after(t, zone_of(jobs_[i]))) {
      due = t;
    }
    const bool caught_up = now - due >= std::chrono::minutes(1) || due != next;
    ran.push_back(run(i, due, caught_up, false));
  }
  return ran;
}

Result<RunRecord> Scheduler::run_now(const std::string& name) {
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    if (jobs_[i].name == name) return run(i, clock_(), false, true);
  }
  std::string names;
  for (const auto& j : jobs_) names += (names.empty() ? "" : ", ") + j.name;
  return Error{ErrorCode::NotFound, fmt::format("no scheduled job \"{}\"; the jobs are: {}", name,
                                                names.empty() ? "none" : names)};
}

RunRecord Scheduler::run(std::size_t idx, TimeMs due, bool caught_up, bool manual) {
  RunRecord r;
  r.job = jobs_[idx].name;
  r.due = due;
  r.caught_up = caught_up;
  r.manual = manual;
  r.started = clock_();
  r.result = runner_(jobs_[idx], due);
  r.duration_ms = (clock_() - r.started).count();
  {
    std::lock_guard lock(mu_);
    JobStatus& s = status_[idx];
    ++s.runs;
    if (!r.result.ok) ++s.failures;
    s.last_ok = r.result.ok;
    s.last_duration_ms = r.duration_ms;
    if (!manual) {
      // A failed run is not retried before its next time (a failing report every minute would
      // only fill the log); the failure is in the history and the metrics.
      s.last_due = due;
      s.next = jobs_[idx].when.next_after(std::max(due, clock_()), zone_of(jobs_[idx]));
    }
  }
  (void)save();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::ofstream h(dir_ / kHistoryFile, std::ios::app);
  h << to_json(r).dump() << '\n';
  return r;
}

Result<void> Scheduler::save() const {
  nlohmann::json jobs = nlohmann::json::object();
  {
    std::lock_guard lock(mu_);
    for (const auto& s : status_) {
      nlohmann::json j = {{"runs", s.runs}, {"failures", s.failures}};
      if (s.last_due) j["last_due_ms"] = to_ms(*s.last_due);
      jobs[s.name] = std::move(j);
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const auto path = dir_ / kStateFile;
  const auto tmp = dir_ / (std::string(kStateFile) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nlohmann::json{{"jobs", jobs}}.dump(1) << '\n';
    out.flush();
    if (!out) return Error{ErrorCode::Io, "cannot write " + tmp.string()};
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error{ErrorCode::Io, "cannot rename " + tmp.string() + ": " + ec.message()};
  return ok();
}

TimeMs Scheduler::next_due() const {
  std::lock_guard lock(mu_);
  TimeMs n = TimeMs::max();
  for (const auto& s : status_) n = std::min(n, s.next);
  return n;
}

std::vector<JobStatus> Scheduler::snapshot() const {
  std::lock_guard lock(mu_);
  return status_;
}

Result<std::vector<nlohmann::json>> Scheduler::history(const std::filesystem::path& state_dir,
                                                       std::size_t limit) {
  std::vector<nlohmann::json> out;
  std::ifstream in(state_dir / kHistoryFile);
  if (!in) return out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      continue;  // a line torn by a crash mid-write
    }
  }
  if (limit > 0 && out.size() > limit) out.erase(out.begin(), out.end() - static_cast<long>(limit));
  return out;
}

}  // namespace flowscope::report
