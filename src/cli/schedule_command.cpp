// `flowscope schedule list|run|history`: the [[schedule]] jobs of a serve configuration
// (docs/reports.md "Scheduler"): when each runs next and how its last run went, a job run now
// by hand (recorded in the same history as the server's runs), and the history.
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/short_flags.h"
#include "core/log.h"
#include "server/server_config.h"

#include "report/job_process.h"
#include "report/scheduler.h"

namespace flowscope::cli {
namespace {

struct ScheduleOptions {
  std::string config;
  std::string dir;
  std::string job;
  std::string now;
  std::size_t limit = 20;
  bool json = false;
};

server::ServerConfig load(const ScheduleOptions& o) {
  auto cfg = server::load_server_config(o.config);
  if (!cfg) throw UserError{cfg.error().message, kExitUsage};
  return std::move(*cfg);
}

report::Clock clock_of(const ScheduleOptions& o) {
  if (o.now.empty())
    return
        [] { return std::chrono::time_point_cast<DurationMs>(std::chrono::system_clock::now()); };
  auto t = parse_time(o.now, TimeContext::system(TimeZoneRef::utc()));
  if (!t) throw UserError{render_error("--now", o.now, t.error()), kExitUsage};
  return [t = *t] { return t; };
}

std::unique_ptr<report::Scheduler> make(const ScheduleOptions& o, const server::ServerConfig& cfg) {
  report::JobProcessOptions po;
  std::error_code ec;
  po.executable = std::filesystem::read_symlink("/proc/self/exe", ec);
  po.log_dir = cfg.store.dir / "schedule-logs";
  po.datadir = cfg.store.dir.string();
  auto s = std::make_unique<report::Scheduler>(
      cfg.schedule, cfg.store.dir, TimeZoneRef::utc(),
      [po](const report::ScheduleJob& j, TimeMs due) {
        return report::run_job_process(po, j, due);
      },
      clock_of(o));
  if (auto r = s->load(); !r) throw UserError{r.error().message};
  return s;
}

void run_list(const ScheduleOptions& o) {
  const auto cfg = load(o);
  auto s = make(o, cfg);
  const auto st = s->snapshot();
  if (o.json) {
    for (std::size_t i = 0; i < st.size(); ++i) {
      nlohmann::json j = {{"name", st[i].name},         {"when", st[i].when},
                          {"kind", st[i].kind},         {"runs", st[i].runs},
                          {"failures", st[i].failures}, {"command", cfg.schedule[i].command}};
      if (st[i].next != TimeMs::max()) j["next"] = format_time(st[i].next);
      if (st[i].last_due) j["last_due"] = format_time(*st[i].last_due);
      std::cout << j.dump() << '\n';
    }
    return;
  }
  std::cout << fmt::format("{:<20} {:<16} {:<10} {:<21} {:<21} {:>5} {:>5}  {}\n", "NAME", "WHEN",
                           "KIND", "NEXT", "LAST", "RUNS", "FAIL", "COMMAND");
  for (std::size_t i = 0; i < st.size(); ++i) {
    std::string cmd;
    for (const auto& w : cfg.schedule[i].command) cmd += (cmd.empty() ? "" : " ") + w;
    std::cout << fmt::format(
        "{:<20} {:<16} {:<10} {:<21} {:<21} {:>5} {:>5}  {}\n", st[i].name, st[i].when, st[i].kind,
        st[i].next == TimeMs::max() ? "never" : format_time(st[i].next),
        st[i].last_due ? format_time(*st[i].last_due) : "-", st[i].runs, st[i].failures, cmd);
  }
}

void run_one(const ScheduleOptions& o) {
  const auto cfg = load(o);
  auto s = make(o, cfg);
  log_always(spdlog::level::info, "schedule", "schedule: running " + o.job, "running " + o.job,
             {{"job", o.job}});
  auto r = s->run_now(o.job);
  if (!r) throw UserError{r.error().message, kExitUsage};
  std::cout << report::to_json(*r).dump() << '\n';
  if (!r->result.ok) {
    throw UserError{
        fmt::format("job {} failed with exit code {}: {} (log: {}/schedule-logs/{}.log)", o.job,
                    r->result.exit_code, r->result.message, cfg.store.dir.string(), o.job)};
  }
}

void run_history(const ScheduleOptions& o) {
  std::filesystem::path dir = o.dir;
  if (dir.empty()) {
    if (o.config.empty()) throw UserError{"give -C CONFIG or -d DATADIR", kExitUsage};
    dir = load(o).store.dir;
  }
  auto h = report::Scheduler::history(dir, o.limit);
  if (!h) throw UserError{h.error().message};
  for (const auto& j : *h) {
    if (o.json) {
      std::cout << j.dump() << '\n';
      continue;
    }
    std::string files;
    for (const auto& f : j.value("outputs", nlohmann::json::array())) {
      files += (files.empty() ? "" : ", ") + f.get<std::string>();
    }
    std::cout << fmt::format(
        "{}  {:<20} {:<7} {:>8} ms  due {}{}{}{}\n", j.value("started", ""), j.value("job", ""),
        j.value("outcome", ""), j.value("duration_ms", std::int64_t{0}), j.value("due", ""),
        j.value("caught_up", false) ? " (caught up)" : "",
        j.value("manual", false) ? " (by hand)" : "", files.empty() ? "" : "  " + files);
  }
}

}  // namespace

void register_schedule(CLI::App& app) {
  auto o = std::make_shared<ScheduleOptions>();
  CLI::App* cmd = app.add_subcommand(
      "schedule", "The built-in scheduler's jobs ([[schedule]] in the serve configuration)");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  flowscope schedule list -C /etc/flowscope/serve.toml\n"
      "  flowscope schedule run monthly-manager -C /etc/flowscope/serve.toml\n"
      "  flowscope schedule history -d /var/lib/flowscope -c 50");
  CLI::App* list = cmd->add_subcommand("list", "Each job: when, next run, last run, counts");
  list->add_option("-C,--config", o->config, "The serve configuration file")->required();
  add_moved_flag(*list, 'c', "the configuration is -C FILE (--config), as nfdump's -C");
  list->add_option("--now", o->now, "Take this time as now");
  list->add_flag("--json", o->json, "JSON lines");
  list->footer("Example:\n  flowscope schedule list -C /etc/flowscope/serve.toml");
  list->callback([o] { run_list(*o); });
  CLI::App* run = cmd->add_subcommand("run", "Run one job now (recorded in the history)");
  run->add_option("name", o->job, "The job's name")->required();
  run->add_option("-C,--config", o->config, "The serve configuration file")->required();
  add_moved_flag(*run, 'c', "the configuration is -C FILE (--config), as nfdump's -C");
  run->footer("Example:\n  flowscope schedule run monthly-manager -C /etc/flowscope/serve.toml");
  run->callback([o] { run_one(*o); });
  CLI::App* hist = cmd->add_subcommand("history", "Past runs, oldest first");
  hist->add_option("-C,--config", o->config, "The serve configuration file");
  hist->add_option(kDataDirOption, o->dir, "The data directory (instead of -c)");
  hist->add_option("-c,--limit", o->limit, "The last N runs (0: all)")
      ->capture_default_str()
      ->check(count_or_moved("the configuration is -C FILE (--config)"));
  add_moved_flag(*hist, 'n', "the number of runs is -c N (--limit), as nfdump's -c");
  hist->add_flag("--json", o->json, "JSON lines");
  hist->footer("Example:\n  flowscope schedule history -d /var/lib/flowscope -c 50");
  hist->callback([o] { run_history(*o); });
}

}  // namespace flowscope::cli
