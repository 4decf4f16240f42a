#include "store/partition.h"

#include <gtest/gtest.h>

namespace flowscope::store {
namespace {

TEST(Partition, NamesRoundTripAndOnlyCanonicalNamesParse) {
  const std::int64_t t = 1'764'000'123'456;  // 2025-11-24T16:02:03.456Z
  EXPECT_EQ(partition_name(Level::Raw, t), "2025-11-24T16");
  EXPECT_EQ(partition_name(Level::Day, t), "2025-11-24");
  EXPECT_EQ(parse_partition_name(Level::Raw, "2025-11-24T16"), floor_to(t, kHourMs));
  EXPECT_EQ(parse_partition_name(Level::Minute, "2025-11-24"), floor_to(t, kDayMs));
  EXPECT_EQ(parse_partition_name(Level::Raw, "2025-11-24"), std::nullopt);
  EXPECT_EQ(parse_partition_name(Level::Raw, "2025-11-24T24"), std::nullopt);
  EXPECT_EQ(parse_partition_name(Level::Day, "2025-02-30"), std::nullopt);
  EXPECT_EQ(parse_partition_name(Level::Day, "2025-1-02"), std::nullopt);
  EXPECT_EQ(partition_name(Level::Raw, partition_time(-5)), "1970-01-01T00");
  EXPECT_EQ(floor_to(-1, kHourMs), -kHourMs);
}

}  // namespace
}  // namespace flowscope::store
