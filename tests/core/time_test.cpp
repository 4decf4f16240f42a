#include "core/time.h"

#include <gtest/gtest.h>

namespace flowscope {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

// 2026-11-24T05:06:17.123Z, a Tuesday.
constexpr std::int64_t kNowMs = 1795496777123;

TimeContext utc_ctx() { return {time_from_ms(kNowMs), TimeZoneRef::utc()}; }

TimeZoneRef zone(std::string_view name) {
  auto z = TimeZoneRef::named(name);
  EXPECT_TRUE(z) << name;
  return z.value_or(TimeZoneRef::utc());
}

TimeContext ctx_in(std::string_view name, std::int64_t now_ms = kNowMs) {
  return {time_from_ms(now_ms), zone(name)};
}

TimeMs t(std::string_view text, const TimeContext& ctx = utc_ctx()) {
  auto r = parse_time(text, ctx);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r.value_or(TimeMs());
}

TimeWindow w(std::string_view text, const TimeContext& ctx = utc_ctx()) {
  auto r = parse_window(text, ctx);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r.value_or(TimeWindow{});
}

std::string iso(TimeMs at) { return format_time(at); }

TEST(Time, Iso8601) {
  EXPECT_EQ(iso(t("2026-11-01T13:45:10Z")), "2026-11-01T13:45:10Z");
  EXPECT_EQ(iso(t("2026-11-01T13:45:10.25Z")), "2026-11-01T13:45:10.250Z");
  EXPECT_EQ(iso(t("2026-11-01T13:45:10.123456Z")), "2026-11-01T13:45:10.123Z");
  EXPECT_EQ(iso(t("2026-11-01T13:45:10+01:00")), "2026-11-01T12:45:10Z");
  EXPECT_EQ(iso(t("2026-11-01T13:45-0530")), "2026-11-01T19:15:00Z");
  EXPECT_EQ(iso(t("2026-11-01T13+02")), "2026-11-01T11:00:00Z");
  EXPECT_EQ(iso(t("2026-11-01 13:45")), "2026-11-01T13:45:00Z");  // local = UTC here
  EXPECT_EQ(iso(t("2026-11-01")), "2026-11-01T00:00:00Z");
  EXPECT_EQ(iso(t("2024-02-29")), "2024-02-29T00:00:00Z");
}

TEST(Time, TrafMonAndNfdumpSlashForms) {
  EXPECT_EQ(iso(t("2026/11/01:13")), "2026-11-01T13:00:00Z");
  EXPECT_EQ(iso(t("2026/11/01:13:20:05")), "2026-11-01T13:20:05Z");
  EXPECT_EQ(iso(t("2026/11/01.13:20")), "2026-11-01T13:20:00Z");
  EXPECT_EQ(iso(t("2026/11/01")), "2026-11-01T00:00:00Z");
}

TEST(Time, EpochSeconds) {
  EXPECT_EQ(to_ms(t("1732406400")), 1732406400000);
  EXPECT_EQ(to_ms(t("@1732406400.5")), 1732406400500);
  EXPECT_EQ(to_ms(t("0")), 0);
}

TEST(Time, NamedZonesAreExplicit) {
  auto ctx = ctx_in("Europe/Brussels");
  EXPECT_EQ(iso(t("2026-11-01 13:00", ctx)), "2026-11-01T12:00:00Z");   // CET, +01:00
  EXPECT_EQ(iso(t("2026-07-01 13:00", ctx)), "2026-07-01T11:00:00Z");   // CEST, +02:00
  EXPECT_EQ(iso(t("2026-07-01T13:00Z", ctx)), "2026-07-01T13:00:00Z");  // offset beats zone
  EXPECT_EQ(format_time(t("2026-07-01T13:00Z"), ctx.zone), "2026-07-01T15:00:00+02:00");
  EXPECT_EQ(ctx.zone.name(), "Europe/Brussels");
  EXPECT_EQ(TimeZoneRef::utc().name(), "UTC");
  EXPECT_TRUE(zone("utc").is_utc());
  auto bad = TimeZoneRef::named("Europe/Brusels");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::NotFound);
  EXPECT_NE(bad.error().message.find("IANA"), std::string::npos);
}

// Brussels, 2026: clocks jump 02:00 -> 03:00 on March 29 and fall back 03:00 -> 02:00 on
// October 25.
TEST(Time, DstGapIsAnErrorWithPosition) {
  auto ctx = ctx_in("Europe/Brussels");
  auto r = parse_time("2026-03-29T02:30", ctx);
  ASSERT_FALSE(r);
  ASSERT_TRUE(r.error().where);
  EXPECT_EQ(r.error().where->offset, 11u);
  EXPECT_NE(r.error().message.find("from 02:00 to 03:00"), std::string::npos) << r.error().message;
  // Just outside the gap both sides exist.
  EXPECT_EQ(iso(t("2026-03-29T01:59:59", ctx)), "2026-03-29T00:59:59Z");
  EXPECT_EQ(iso(t("2026-03-29T03:00", ctx)), "2026-03-29T01:00:00Z");
  // With an explicit offset the same wall time is fine.
  EXPECT_EQ(iso(t("2026-03-29T02:30+01:00", ctx)), "2026-03-29T01:30:00Z");
}

TEST(Time, DstRepeatedHourTakesTheEarlierInstant) {
  auto ctx = ctx_in("Europe/Brussels");
  EXPECT_EQ(iso(t("2026-10-25T02:30", ctx)), "2026-10-25T00:30:00Z");  // CEST, not CET
  EXPECT_EQ(iso(t("2026-10-25T02:30+01:00", ctx)), "2026-10-25T01:30:00Z");
}

TEST(Time, DaysAcrossDstChangesAreNot24Hours) {
  auto ctx = ctx_in("Europe/Brussels");
  EXPECT_EQ(w("2026-03-29", ctx).length(), hours(23));
  EXPECT_EQ(w("2026-10-25", ctx).length(), hours(25));
  EXPECT_EQ(w("2026-11-01", ctx).length(), hours(24));
  // "today" on the spring-forward day, and "yesterday" the day after.
  auto spring = ctx_in("Europe/Brussels", to_ms(t("2026-03-29T12:00Z")));
  EXPECT_EQ(w("today", spring), (TimeWindow{t("2026-03-28T23:00Z"), t("2026-03-29T22:00Z")}));
  auto after = ctx_in("Europe/Brussels", to_ms(t("2026-03-30T12:00Z")));
  EXPECT_EQ(w("yesterday", after).length(), hours(23));
  auto ny = ctx_in("America/New_York", to_ms(t("2026-11-01T18:00Z")));
  EXPECT_EQ(w("today", ny).length(), hours(25));
  EXPECT_EQ(w("today", ny).begin, t("2026-11-01T04:00Z"));  // midnight EDT
}

TEST(Time, RelativeWindows) {
  TimeMs now = time_from_ms(kNowMs);
  EXPECT_EQ(w("15m"), (TimeWindow{now - minutes(15), now}));
  EXPECT_EQ(w("1h30m"), (TimeWindow{now - minutes(90), now}));
  EXPECT_EQ(w("last 1h"), (TimeWindow{now - hours(1), now}));
  EXPECT_EQ(w("last hour"), (TimeWindow{now - hours(1), now}));
  EXPECT_EQ(w("LAST 5 hours"), (TimeWindow{now - hours(5), now}));
  EXPECT_EQ(w("last week"), (TimeWindow{now - days(7), now}));
  EXPECT_EQ(w("  7d "), (TimeWindow{now - days(7), now}));
}

TEST(Time, CalendarWindows) {
  EXPECT_EQ(w("today"), (TimeWindow{t("2026-11-24"), t("2026-11-25")}));
  EXPECT_EQ(w("yesterday"), (TimeWindow{t("2026-11-23"), t("2026-11-24")}));
  EXPECT_EQ(w("this week"), (TimeWindow{t("2026-11-23"), t("2026-11-30")}));  // Monday start
  // In Tokyo it is already 14:06 on the 24th; in Los Angeles still the 23rd.
  EXPECT_EQ(w("today", ctx_in("Asia/Tokyo")).begin, t("2026-11-23T15:00Z"));
  EXPECT_EQ(w("today", ctx_in("America/Los_Angeles")).begin, t("2026-11-23T08:00Z"));
}

// FlowTraq's Time Navigation forms (F16). Now is 2026-11-24T05:06:17.123Z.
TEST(Time, NavigationForms) {
  const TimeMs now = time_from_ms(kNowMs);
  EXPECT_EQ(w("this hour"), (TimeWindow{t("2026-11-24T05:00Z"), t("2026-11-24T06:00Z")}));
  EXPECT_EQ(w("This Day"), w("today"));
  EXPECT_EQ(w("this month"), (TimeWindow{t("2026-11-01"), t("2026-12-01")}));
  EXPECT_EQ(w("this year"), (TimeWindow{t("2026-01-01"), t("2027-01-01")}));
  EXPECT_EQ(w("last month"), (TimeWindow{t("2026-10-24T05:06:17.123Z"), now}));
  EXPECT_EQ(w("last 2 months"), (TimeWindow{t("2026-09-24T05:06:17.123Z"), now}));
  EXPECT_EQ(w("last year"), (TimeWindow{t("2025-11-24T05:06:17.123Z"), now}));
  // 31 March minus a month is the last day of February.
  const TimeContext march{t("2026-03-31T12:00Z"), TimeZoneRef::utc()};
  EXPECT_EQ(w("last month", march).begin, t("2026-02-28T12:00Z"));
  // since a time of day: its latest past occurrence (23:50 is yesterday's at 05:06).
  EXPECT_EQ(w("since 23:50"), (TimeWindow{t("2026-11-23T23:50Z"), now}));
  EXPECT_EQ(w("since 05:00"), (TimeWindow{t("2026-11-24T05:00Z"), now}));
  EXPECT_EQ(w("since 2026-11-20"), (TimeWindow{t("2026-11-20"), now}));
  EXPECT_EQ(w("since -3h"), (TimeWindow{now - hours(3), now}));
  EXPECT_EQ(w("-1h"), (TimeWindow{now - hours(1), now}));
  EXPECT_EQ(w("-2h..-1h"), (TimeWindow{now - hours(2), now - hours(1)}));
  EXPECT_EQ(w("-30m..now"), (TimeWindow{now - minutes(30), now}));
  // In a zone: this hour of Brussels (06:06 local) and since 23:50 local.
  const auto brussels = ctx_in("Europe/Brussels");
  EXPECT_EQ(w("this hour", brussels).begin, t("2026-11-24T05:00Z"));
  EXPECT_EQ(w("since 23:50", brussels).begin, t("2026-11-23T22:50Z"));
  EXPECT_FALSE(parse_window("since 25:99", utc_ctx()));
  EXPECT_FALSE(parse_window("last 0 months", utc_ctx()));
  EXPECT_FALSE(parse_window("-1h..-2h", utc_ctx()));
}

TEST(Time, Ranges) {
  // A date as the end includes that day.
  EXPECT_EQ(w("2026-11-01..2026-11-08"), (TimeWindow{t("2026-11-01"), t("2026-11-09")}));
  EXPECT_EQ(w("2026-11-01T10:00Z..2026-11-01T12:00Z"),
            (TimeWindow{t("2026-11-01T10:00Z"), t("2026-11-01T12:00Z")}));
  EXPECT_EQ(w("2026-11-20 .."), (TimeWindow{t("2026-11-20"), time_from_ms(kNowMs)}));
  EXPECT_EQ(w("2026/11/01.10:00-2026/11/01.12:00"),
            (TimeWindow{t("2026-11-01T10:00Z"), t("2026-11-01T12:00Z")}));
  EXPECT_EQ(w("2026/11/01:10..2026/11/01:12").length(), hours(2));
  // One absolute time is the whole unit it names.
  EXPECT_EQ(w("2026/11/01:13"), (TimeWindow{t("2026-11-01T13:00Z"), t("2026-11-01T14:00Z")}));
  EXPECT_EQ(w("2026-11-01T13:20Z").length(), minutes(1));
  EXPECT_EQ(w("1732406400").length(), std::chrono::seconds(1));
}

TEST(Time, BadInputNamesThePosition) {
  struct Case {
    std::string_view text;
    std::size_t offset;
    std::string_view says;
  };
  for (Case c :
       {Case{"2026-13-01", 5, "month 13 is out of range"},
        Case{"2026-02-30", 8, "day 30 does not exist"}, Case{"2026-11-01T25:00", 11, "hour 25"},
        Case{"2026-11-01T10:61", 14, "minute 61"}, Case{"2026-11-01X10", 10, "expected 'T'"},
        Case{"2026/11/01x", 10, "expected ':'"}, Case{"2026-11-01T10:00+25", 17, "offset hour"},
        Case{"15x", 2, "unknown unit"}, Case{"last", 4, "after 'last'"},
        Case{"last 5 fortnights", 7, "unknown unit"}, Case{"..2026-11-01", 0, "start time"},
        Case{"2026-11-08..2026-11-01", 12, "ends before it begins"},
        Case{"yesterdayy", 0, "expected a time"}, Case{"@", 1, "epoch seconds"},
        Case{"0m", 0, "length 0"}, Case{"1969-12-31", 0, "year 1969"}}) {
    auto r = parse_window(c.text, utc_ctx());
    ASSERT_FALSE(r) << c.text;
    ASSERT_TRUE(r.error().where) << c.text;
    EXPECT_EQ(r.error().where->offset, c.offset) << c.text << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
        << c.text << ": " << r.error().message;
  }
}

TEST(Time, Durations) {
  EXPECT_EQ(*parse_duration("1h30m"), minutes(90));
  EXPECT_EQ(*parse_duration("5 minutes"), minutes(5));
  EXPECT_EQ(*parse_duration("250ms"), DurationMs(250));
  EXPECT_EQ(*parse_duration("2w"), days(14));
  EXPECT_EQ(format_duration(minutes(90)), "1h30m");
  EXPECT_EQ(format_duration(days(7)), "7d");
  EXPECT_EQ(format_duration(DurationMs(1250)), "1s250ms");
  EXPECT_FALSE(parse_duration("h"));
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(Time, RenderErrorPutsACaretUnderThePosition) {
  auto r = parse_window("2026-13-01", utc_ctx());
  ASSERT_FALSE(r);
  EXPECT_EQ(render_error("time", "2026-13-01", r.error()),
            "time: month 13 is out of range (1-12)\n  2026-13-01\n       ^");
}

}  // namespace
}  // namespace flowscope
