// The built-in scheduler on an injected clock (report/scheduler.h): jobs run on time, none is
// skipped, a restart neither repeats a run nor loses one (a missed run is caught up once), a
// bad `when` is refused with its configuration line; the cron arithmetic behind it.
#include "report/scheduler.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/store_test_support.h"

#include "report/schedule.h"

namespace flowscope::report {
namespace {

TimeMs at(const std::string& text) {
  auto t = parse_time(text, TimeContext::system(TimeZoneRef::utc()));
  EXPECT_TRUE(t) << text;
  return *t;
}

ScheduleJob job(const std::string& name, const std::string& when, bool catch_up = true) {
  ScheduleJob j;
  j.name = name;
  auto w = CronWhen::parse(when);
  EXPECT_TRUE(w) << (w ? "" : w.error().message);
  j.when = *w;
  j.command = {"store", "stats", "-d", "{datadir}"};
  j.kind = "command";
  j.catch_up = catch_up;
  return j;
}

// A scheduler over a fake clock and a runner that records (job, due).
struct Rig {
  store::testing::TempDir dir;
  TimeMs now{};
  std::vector<std::pair<std::string, TimeMs>> runs;
  std::unique_ptr<Scheduler> make(std::vector<ScheduleJob> jobs) {
    auto s = std::make_unique<Scheduler>(
        std::move(jobs), dir.path(), TimeZoneRef::utc(),
        [this](const ScheduleJob& j, TimeMs due) {
          runs.emplace_back(j.name, due);
          JobResult r;
          r.ok = j.name != "failing";
          r.exit_code = r.ok ? 0 : 1;
          return r;
        },
        [this] { return now; });
    EXPECT_TRUE(s->load());
    return s;
  }
};

TEST(CronWhen, ParsesFieldsAndShorthands) {
  const TimeZoneRef utc;
  auto w = CronWhen::parse("*/15 8-18 * * mon-fri");
  ASSERT_TRUE(w);
  // Saturday 2026-12-05 12:00 -> Monday 08:00.
  EXPECT_EQ(w->next_after(at("2026-12-05T12:00Z"), utc), at("2026-12-07T08:00Z"));
  EXPECT_EQ(w->next_after(at("2026-12-07T08:00Z"), utc), at("2026-12-07T08:15Z"));
  EXPECT_EQ(w->next_after(at("2026-12-07T18:45Z"), utc), at("2026-12-08T08:00Z"));
  auto weekly = CronWhen::parse("@weekly");
  ASSERT_TRUE(weekly);
  EXPECT_EQ(weekly->next_after(at("2026-12-02T10:00Z"), utc), at("2026-12-07T00:00Z"));
  auto monthly = CronWhen::parse("@monthly");
  ASSERT_TRUE(monthly);
  EXPECT_EQ(monthly->next_after(at("2026-12-01T00:00Z"), utc), at("2027-01-01T00:00Z"));
  // Both day fields restricted: either matches, as cron (the 13th, or a Friday).
  auto either = CronWhen::parse("0 0 13 * fri");
  ASSERT_TRUE(either);
  EXPECT_EQ(either->next_after(at("2026-12-06T00:00Z"), utc), at("2026-12-11T00:00Z"));
  EXPECT_EQ(either->next_after(at("2026-12-12T00:00Z"), utc), at("2026-12-13T00:00Z"));
  // Sunday as 7, months by name, lists.
  auto sun = CronWhen::parse("30 2 * jan,dec 7");
  ASSERT_TRUE(sun);
  EXPECT_EQ(sun->next_after(at("2026-12-06T03:00Z"), utc), at("2026-12-13T02:30Z"));
  // In a zone: 06:00 Brussels is 05:00 UTC in winter.
  auto zone = TimeZoneRef::named("Europe/Brussels");
  ASSERT_TRUE(zone);
  auto six = CronWhen::parse("0 6 * * *");
  ASSERT_TRUE(six);
  EXPECT_EQ(six->next_after(at("2026-12-06T00:00Z"), *zone), at("2026-12-06T05:00Z"));
  // Never: February 31st.
  auto never = CronWhen::parse("0 0 31 2 *");
  ASSERT_TRUE(never);
  EXPECT_EQ(never->next_after(at("2026-12-06T00:00Z"), utc), TimeMs::max());
}

TEST(CronWhen, RefusesBadFieldsWithTheChoices) {
  for (const char* bad : {"61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                          "* * * *", "5-1 * * * *", "*/0 * * * *", "a * * * *", "@often", ""}) {
    auto w = CronWhen::parse(bad);
    ASSERT_FALSE(w) << bad;
    EXPECT_NE(w.error().message.find("MIN HOUR DAY MONTH WEEKDAY"), std::string::npos)
        << w.error().message;
  }
}

TEST(Schedule, ConfigErrorsNameTheLine) {
  const std::string text =
      "[store]\n"
      "dir = \"/tmp/x\"\n"
      "\n"
      "[[schedule]]\n"
      "name = \"nightly\"\n"
      "when = \"61 2 * * *\"\n"
      "job = \"retention\"\n";
  auto jobs = parse_schedule(text, "serve.toml");
  ASSERT_FALSE(jobs);
  EXPECT_NE(jobs.error().message.find("serve.toml:6: schedule nightly: when \"61 2 * * *\": "
                                      "minute 61 is outside 0-59"),
            std::string::npos)
      << jobs.error().message;
  auto unknown =
      parse_schedule("[[schedule]]\nname = \"a\"\nwhen = \"@daily\"\njob = \"x\"\n", "s.toml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("s.toml:4: schedule a: job \"x\" is unknown"),
            std::string::npos)
      << unknown.error().message;
  auto dup = parse_schedule(
      "[[schedule]]\nname = \"a\"\nwhen = \"@daily\"\njob = \"ipinfo\"\n"
      "[[schedule]]\nname = \"a\"\nwhen = \"@daily\"\njob = \"ipinfo\"\n",
      "s.toml");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("s.toml:6:"), std::string::npos) << dup.error().message;
}

TEST(Schedule, PresetsAndCommands) {
  auto jobs = parse_schedule(
      "[[schedule]]\nname = \"monthly\"\nwhen = \"0 6 1 * *\"\n"
      "command = \"flowscope report volume --type manager -d {datadir} --location 'Brussels HQ' "
      "--out /srv/r/{date}\"\n"
      "[[schedule]]\nname = \"dns\"\nwhen = \"@weekly\"\njob = \"ipinfo\"\nall = true\n"
      "[[schedule]]\nname = \"drop\"\nwhen = \"15 3 * * *\"\njob = \"retention\"\ncatch_up = "
      "false\n",
      "s.toml");
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].kind, "report");
  const auto cmd = expand_command((*jobs)[0], "/var/lib/fs", at("2026-12-01T06:00Z"), {});
  const std::vector<std::string> want = {"report", "volume",           "--type",     "manager",
                                         "-d",     "/var/lib/fs",      "--location", "Brussels HQ",
                                         "--out",  "/srv/r/2026-12-01"};
  EXPECT_EQ(cmd, want);
  EXPECT_EQ((*jobs)[1].command,
            (std::vector<std::string>{"ipinfo", "refresh", "-d", "{datadir}", "--all"}));
  EXPECT_EQ((*jobs)[2].kind, "retention");
  EXPECT_FALSE((*jobs)[2].catch_up);
}

TEST(Scheduler, RunsOnTimeAndSkipsNothing) {
  Rig rig;
  rig.now = at("2026-12-06T00:03Z");
  auto s = rig.make({job("hourly", "0 * * * *"), job("quarter", "*/15 * * * *")});
  // A day, ticking every minute and at odd seconds in between.
  for (TimeMs t = at("2026-12-06T00:03Z"); t < at("2026-12-07T00:03Z");
       t += std::chrono::seconds(37)) {
    rig.now = t;
    s->tick();
  }
  std::map<std::string, std::vector<TimeMs>> by_job;
  for (const auto& [name, due] : rig.runs) by_job[name].push_back(due);
  ASSERT_EQ(by_job["hourly"].size(), 24u);
  ASSERT_EQ(by_job["quarter"].size(), 96u);
  for (std::size_t i = 0; i < 24; ++i) {
    EXPECT_EQ(by_job["hourly"][i], at("2026-12-06T01:00Z") + std::chrono::hours(i));
  }
  for (std::size_t i = 0; i < 96; ++i) {
    EXPECT_EQ(by_job["quarter"][i], at("2026-12-06T00:15Z") + std::chrono::minutes(15 * i));
  }
}

TEST(Scheduler, CatchesUpOnceAfterDowntimeAndNeverRepeats) {
  Rig rig;
  std::vector<ScheduleJob> jobs = {job("hourly", "0 * * * *"), job("nocatch", "30 * * * *", false)};
  rig.now = at("2026-12-06T00:40Z");
  {
    auto s = rig.make(jobs);
    rig.now = at("2026-12-06T01:00:20Z");
    auto ran = s->tick();
    ASSERT_EQ(ran.size(), 1u);
    EXPECT_FALSE(ran[0].caught_up);
    rig.now = at("2026-12-06T01:20Z");
    EXPECT_TRUE(s->tick().empty());
  }
  // Restarted within the same hour: the 01:00 run is not repeated.
  {
    auto s = rig.make(jobs);
    EXPECT_TRUE(s->tick().empty());
    rig.now = at("2026-12-06T01:30Z");
    ASSERT_EQ(s->tick().size(), 1u);  // nocatch at 01:30
  }
  rig.runs.clear();
  // Down from 01:31 to 05:47: 02:00 .. 05:00 missed -> one catch-up run (due 05:00); nocatch's
  // 02:30 .. 05:30 are skipped.
  rig.now = at("2026-12-06T05:47Z");
  auto s = rig.make(jobs);
  auto ran = s->tick();
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran[0].job, "hourly");
  EXPECT_EQ(ran[0].due, at("2026-12-06T05:00Z"));
  EXPECT_TRUE(ran[0].caught_up);
  EXPECT_TRUE(s->tick().empty());
  rig.now = at("2026-12-06T06:00Z");
  ran = s->tick();
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran[0].due, at("2026-12-06T06:00Z"));
  rig.now = at("2026-12-06T06:30Z");
  ran = s->tick();
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran[0].job, "nocatch");
  // Every run is in the history, with its outcome.
  auto h = Scheduler::history(rig.dir.path());
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 5u);
  EXPECT_EQ(h->back().value("outcome", ""), "ok");
  EXPECT_EQ((*h)[2].value("caught_up", false), true);
}

TEST(Scheduler, NewJobWaitsForItsTimeAndManualRunsKeepTheSchedule) {
  Rig rig;
  rig.now = at("2026-12-06T10:00Z");
  auto s = rig.make({job("daily", "0 6 * * *"), job("failing", "0 7 * * *")});
  EXPECT_TRUE(s->tick().empty());  // 06:00 today passed before the job existed
  auto r = s->run_now("daily");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->manual);
  EXPECT_EQ(s->snapshot()[0].next, at("2026-12-07T06:00Z"));
  EXPECT_FALSE(s->run_now("nope"));
  rig.now = at("2026-12-07T07:00Z");
  auto ran = s->tick();
  ASSERT_EQ(ran.size(), 2u);
  EXPECT_FALSE(ran[1].result.ok);
  EXPECT_EQ(s->snapshot()[1].failures, 1u);
  EXPECT_EQ(s->next_due(), at("2026-12-08T06:00Z"));
}

}  // namespace
}  // namespace flowscope::report

namespace flowscope::report {
namespace {

// `zone = "Europe/Brussels"`: `when` is Brussels' wall clock, across a daylight saving change;
// {date} is Brussels' date. A bad zone names the line and the fix.
TEST(Scheduler, AJobsZoneReadsItsWhenInThatZone) {
  auto jobs = parse_schedule(
      "[[schedule]]\nname = \"night\"\nwhen = \"30 4 * * *\"\nzone = \"Europe/Brussels\"\n"
      "command = \"report volume -d {datadir} --out /r/{date}\"\n"
      "[[schedule]]\nname = \"utc\"\nwhen = \"30 4 * * *\"\njob = \"retention\"\n",
      "s.toml");
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_TRUE((*jobs)[0].zone.has_value());
  EXPECT_FALSE((*jobs)[1].zone.has_value());
  Rig rig;
  rig.now = at("2026-10-23T12:00Z");  // Brussels on CEST (+2) until 25 October
  auto s = rig.make(*jobs);
  for (TimeMs t = rig.now; t < at("2026-10-27T12:00Z"); t += std::chrono::minutes(7)) {
    rig.now = t;
    s->tick();
  }
  std::vector<TimeMs> night, utc;
  for (const auto& [name, due] : rig.runs) (name == "night" ? night : utc).push_back(due);
  const std::vector<TimeMs> want_night = {at("2026-10-24T02:30Z"), at("2026-10-25T03:30Z"),
                                          at("2026-10-26T03:30Z"), at("2026-10-27T03:30Z")};
  EXPECT_EQ(night, want_night);  // 04:30 CEST, then 04:30 CET after the change
  ASSERT_EQ(utc.size(), 4u);
  EXPECT_EQ(utc[0], at("2026-10-24T04:30Z"));
  // {date} is the job's own date: 23:30 UTC on the 24th is already the 25th in Brussels.
  const auto cmd = expand_command((*jobs)[0], "/d", at("2026-10-24T23:30Z"), *(*jobs)[0].zone);
  EXPECT_EQ(cmd.back(), "/r/2026-10-25");

  auto bad = parse_schedule(
      "[[schedule]]\nname = \"a\"\nwhen = \"@daily\"\nzone = \"Mars/Olympus\"\njob = \"ipinfo\"\n",
      "s.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("s.toml:4:"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("Europe/Brussels"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace flowscope::report
