// report/report_run.h: the default periods, the plan's refusals and defaults, the pattern file.
#include "report/report_run.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace flowscope::report {
namespace {

TEST(ReportRun, PreviousMonthAndWeekInTheZone) {
  TimeContext ctx = TimeContext::system();
  auto now = parse_time("2026-11-18T10:00:00Z", ctx);
  ASSERT_TRUE(now);
  ctx.now = *now;
  const TimeWindow month = previous_period(ctx, false);
  EXPECT_EQ(format_time(month.begin), "2026-10-01T00:00:00Z");
  EXPECT_EQ(format_time(month.end), "2026-11-01T00:00:00Z");
  const TimeWindow week = previous_period(ctx, true);  // 2026-11-18 is a Wednesday
  EXPECT_EQ(format_time(week.begin), "2026-11-09T00:00:00Z");
  EXPECT_EQ(format_time(week.end), "2026-11-16T00:00:00Z");
}

TEST(ReportRun, PlanResolvesThePeriodOutputAndFormats) {
  ReportRequest r;
  r.dir = "data";
  r.now = "2026-11-18T10:00:00Z";
  r.formats = "pdf,json";
  auto plan = plan_report(r, false);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(format_time(time_from_ms(plan->volume.begin_ms)), "2026-10-01T00:00:00Z");
  EXPECT_EQ(plan->out, std::filesystem::path("reports/2026/11/18"));
  EXPECT_EQ(plan->formats, (std::vector<std::string>{"pdf", "json"}));
  EXPECT_EQ(plan->groups, nullptr);
}

TEST(ReportRun, PlanRefusalsAreTheUsersAndNameTheOption) {
  ReportRequest r;
  r.dir = "data";
  r.formats = "pdf,doc";
  auto bad = plan_report(r, false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(bad.error().message, "--format \"doc\": use pdf, html or json, joined by ','");
  r = ReportRequest{};
  r.start = "2026-11-01";
  EXPECT_EQ(plan_report(r, true).error().message,
            "give both --start and --end (or neither: the previous month)");
  r = ReportRequest{};
  EXPECT_EQ(plan_report(r, true).error().message,
            "give the data directory with -d DATADIR, or a server with -srv HOST -un USER");
  r.dir = "data";
  r.server = "collector";
  EXPECT_EQ(plan_report(r, true).error().message,
            "give -d DATADIR (a local store) or -srv HOST (a server), not both");
  EXPECT_EQ(open_report_store("/nonexistent/flowscope").error().code, ErrorCode::NotFound);
}

TEST(ReportRun, PatternFileSkipsCommentsAndNamesTheBadLine) {
  const auto path = std::filesystem::temp_directory_path() / "flowscope-report-run-patterns.txt";
  {
    std::ofstream f(path);
    f << "# servers\n  10.1.2.3  \n\n; labs\n10.1.*\n";
  }
  auto ok = read_host_patterns(path.string());
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, (std::vector<std::string>{"10.1.2.3", "10.1.*"}));
  {
    std::ofstream f(path);
    f << "10.1.2.3\nnot-an-address\n";
  }
  auto bad = read_host_patterns(path.string());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind(path.string() + ":2: ", 0), 0u) << bad.error().message;
  {
    std::ofstream f(path);
    f << "# nothing\n";
  }
  EXPECT_EQ(read_host_patterns(path.string()).error().message,
            "--patterns: " + path.string() + " has no pattern");
  std::filesystem::remove(path);
  EXPECT_EQ(host_dir_name("2001:db8::1"), "2001_db8__1");
}

TEST(ReportRun, WritesJsonAndListsTheFile) {
  const auto dir = std::filesystem::temp_directory_path() / "flowscope-report-run-out";
  std::filesystem::remove_all(dir);
  Report rep;
  std::ostringstream listing;
  ASSERT_TRUE(write_report_files(rep, dir / "a", "volume-manager", {"json"}, listing));
  const std::string file = (dir / "a" / "volume-manager.json").string();
  EXPECT_EQ(listing.str(), file + "\n");
  EXPECT_TRUE(std::filesystem::exists(file));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::report
