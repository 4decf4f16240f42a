// The part of a window raw retention dropped (query/raw_retention.h, docs/query.md "Raw
// retention"): when there is one, its JSON form and the CLI's note.
#include "query/raw_retention.h"

#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace flowscope::query {
namespace {

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kNow = 1'793'750'400'000;  // 2026-11-04T00:00:00Z

TEST(RawRetentionGap, OnlyAnswersFromRawSessionsOfAWindowPastRetentionLackAPart) {
  const auto gap = raw_retention_gap(kNow - 3 * kDay, kNow, kDay, "raw");
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->from_ms, kNow - 3 * kDay);
  EXPECT_EQ(gap->to_ms, kNow - kDay);
  EXPECT_EQ(gap->keep_ms, kDay);
  // A rollup answer with a raw tail still read raw rows for part of the window.
  EXPECT_TRUE(raw_retention_gap(kNow - 3 * kDay, kNow, kDay, "rollup pair 1d + raw tail"));
  // A rollup alone, a window inside retention, or no retention: nothing missing.
  EXPECT_FALSE(raw_retention_gap(kNow - 3 * kDay, kNow, kDay, "rollup by_port 1h"));
  EXPECT_FALSE(raw_retention_gap(kNow - kDay, kNow, kDay, "raw"));
  EXPECT_FALSE(raw_retention_gap(kNow - kDay / 2, kNow, kDay, "raw"));
  EXPECT_FALSE(raw_retention_gap(kNow - 3 * kDay, kNow, 0, "raw"));
}

TEST(RawRetentionGap, JsonAndNoteNameTheRange) {
  const MissingRange m{kNow - 3 * kDay, kNow - kDay, kDay};
  const nlohmann::json j = missing_json(m);
  EXPECT_EQ(j, nlohmann::json::parse(R"({"from": "2026-11-01T00:00:00Z", "from_ms": 1793491200000,
      "to": "2026-11-03T00:00:00Z", "to_ms": 1793664000000, "reason": "raw_retention",
      "keep_raw": "1d"})"));
  EXPECT_EQ(missing_note(m),
            "note: raw sessions older than 1d are dropped (store.json keep raw): this answer "
            "lacks those from 2026-11-01T00:00:00Z to 2026-11-03T00:00:00Z; only rollups cover "
            "that part");
  // A window with no begin ("all"): from is null, the note says "the start".
  const auto all = raw_retention_gap(std::numeric_limits<std::int64_t>::min(), kNow, kDay, "raw");
  ASSERT_TRUE(all);
  EXPECT_TRUE(missing_json(*all)["from"].is_null());
  EXPECT_TRUE(missing_json(*all)["from_ms"].is_null());
  EXPECT_NE(missing_note(*all).find("lacks those from the start to 2026-11-03T00:00:00Z"),
            std::string::npos);
}

}  // namespace
}  // namespace flowscope::query
