// store/store_admin.h: per-level totals, the stats row, config specs and text, check and
// repair reports.
#include "store/store_admin.h"

#include <sstream>

#include <gtest/gtest.h>

namespace flowscope::store {
namespace {

PartitionStats part(Level level, std::string view, std::string partition, std::uint64_t rows,
                    std::uint64_t bytes, std::int64_t first, std::int64_t last) {
  return PartitionStats{level, std::move(view), std::move(partition), 2, rows, bytes, first, last};
}

TEST(StoreAdmin, LevelTotalsSumPerLevelAndViewAndCountPartitions) {
  const std::vector<PartitionStats> parts = {
      part(Level::Raw, "", "2026-11-24T00", 10, 1000, 5000, 9000),
      part(Level::Raw, "", "2026-11-24T01", 30, 2000, 1000, 20000),
      part(Level::Minute, "by_port", "2026-11-24", 4, 80, 3000, 4000)};
  const auto totals = level_totals(parts);
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0].level, Level::Raw);
  EXPECT_EQ(totals[0].partition, "2");
  EXPECT_EQ(totals[0].segments, 4u);
  EXPECT_EQ(totals[0].rows, 40u);
  EXPECT_EQ(totals[0].bytes, 3000u);
  EXPECT_EQ(totals[0].min_time, 1000);
  EXPECT_EQ(totals[0].max_time, 20000);
  EXPECT_EQ(totals[1].view, "by_port");
  EXPECT_EQ(totals[1].partition, "1");
  EXPECT_EQ(totals[1].rows, 4u);
}

TEST(StoreAdmin, StatsRowFormatsBytesPerRowAndTimes) {
  const auto row = stats_table_row(part(Level::Raw, "", "p", 3, 10, 0, 1000), "total: 1");
  const std::vector<std::string> want = {"raw",
                                         "-",
                                         "total: 1",
                                         "2",
                                         "3",
                                         "10",
                                         "3.3",
                                         "1970-01-01T00:00:00Z",
                                         "1970-01-01T00:00:01Z"};
  EXPECT_EQ(row, want);
  EXPECT_EQ(stats_table_row(part(Level::Hour, "v", "p", 0, 0, 0, 0), "p")[6], "-");
}

TEST(StoreAdmin, KeepSpecsAndConfigChanges) {
  auto keep = parse_keep_spec("1m=30d");
  ASSERT_TRUE(keep) << keep.error().message;
  EXPECT_EQ(keep->first, Level::Minute);
  EXPECT_EQ(keep->second.count(), 30LL * 86'400'000);
  auto bad = parse_keep_spec("raw");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "\"raw\" is not LEVEL=DURATION; use e.g. raw=7d, 1m=30d");
  EXPECT_FALSE(parse_keep_spec("2m=1d"));

  StoreConfig config;
  config.rollups.push_back(RollupView{"by_port", {FieldId::SrvPort}});
  auto hosts = parse_rollup_spec("hosts=cln_addr,srv_addr");
  ASSERT_TRUE(hosts);
  apply_config_changes(config, {RollupView{"by_port", {FieldId::SrvPort, FieldId::Proto}}, *hosts},
                       {{Level::Raw, DurationMs(7LL * 86'400'000)}});
  std::ostringstream out;
  write_store_config(config, out);
  EXPECT_EQ(out.str(),
            "rollup by_port: srv_port,proto\n"
            "rollup hosts: cln_addr,srv_addr\n"
            "keep raw: 7d\nkeep 1m: forever\nkeep 1h: forever\nkeep 1d: forever\n");
}

TEST(StoreAdmin, ReadConfigOfAMissingDirectoryNamesTheFix) {
  auto r = read_store_config("/nonexistent/flowscope-data");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_NE(r.error().message.find("create the store first"), std::string::npos);
}

TEST(StoreAdmin, CheckAndRepairReports) {
  StoreCheckReport check;
  check.segments = 3;
  check.raw_rows = 120;
  check.wal_files = 1;
  check.pending_segments = 1;
  check.problems = {"seg: damaged; run repair"};
  std::ostringstream out;
  write_check_report(check, out);
  EXPECT_EQ(out.str(),
            "checkpoint: missing\nreferenced: 3 segments, 120 rows (raw)\nwal: 1 files\n"
            "pending: 1 segments of a flush cut short (the WAL replays their rows)\n"
            "problem: seg: damaged; run repair\n");
  RepairReport repair;
  repair.restored = 2;
  repair.set_aside = 1;
  repair.after.wal_number = 7;
  repair.actions = {"restored a"};
  std::ostringstream rep;
  write_repair_report(repair, "data", rep);
  EXPECT_EQ(rep.str(),
            "restored a\nrestored 2 segments, moved 1 stray files to data/orphans/; "
            "checkpoint: segments up to WAL 7\n");
}

}  // namespace
}  // namespace flowscope::store
