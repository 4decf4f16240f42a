#include "core/record_batch.h"

#include <gtest/gtest.h>

namespace flowscope {
namespace {

TEST(RecordBatch, SetAndGetTypedValues) {
  FlowBatch b;
  std::size_t row = b.add_row();
  b.set<FieldId::SrcAddr>(row, IpAddress::v4(0x0A000001));
  b.set<FieldId::DstPort>(row, 443);
  b.set<FieldId::FlowBytes>(row, 1500);
  b.set<FieldId::First>(row, 1732406400000);
  b.set<FieldId::Application>(row, "http");
  std::size_t row2 = b.add_row();
  b.set<FieldId::Application>(row2, "dns");
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.get<FieldId::SrcAddr>(row).to_string(), "10.0.0.1");
  EXPECT_EQ(b.get<FieldId::DstPort>(row), 443);
  EXPECT_EQ(b.get<FieldId::FlowBytes>(row), 1500u);
  EXPECT_EQ(b.get<FieldId::First>(row), 1732406400000);
  EXPECT_EQ(b.get<FieldId::Application>(row), "http");
  EXPECT_EQ(b.get<FieldId::Application>(row2), "dns");
  EXPECT_EQ(b.values<FieldId::DstPort>().size(), 2u);
}

TEST(RecordBatch, AbsentValuesReadAsZeroAndAreMarked) {
  SessionBatch b;
  std::size_t row = b.add_row();
  b.set<FieldId::ClnBytes>(row, 10);
  EXPECT_TRUE(b.is_set(FieldId::ClnBytes, row));
  EXPECT_FALSE(b.is_set(FieldId::SrvBytes, row));
  EXPECT_EQ(b.get<FieldId::SrvBytes>(row), 0u);
  EXPECT_TRUE(b.get<FieldId::ClnCountry>(row).empty());
  EXPECT_EQ(b.get<FieldId::ClnCity>(row), "");
  EXPECT_FALSE(b.is_set(FieldId::TotalBytes, row));  // derived: no column
  EXPECT_EQ(b.column(FieldId::ClnBytes).valid_count(b.size()), 1u);
}

TEST(RecordBatch, ClearKeepsMemoryAndZeroes) {
  FlowBatch b(256);
  const void* before = b.values<FieldId::FlowBytes>().data();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 256; ++i) {
      std::size_t row = b.add_row();
      b.set<FieldId::FlowBytes>(row, static_cast<std::uint64_t>(i + round));
    }
    EXPECT_EQ(b.size(), 256u);
    EXPECT_EQ(b.capacity(), 256u);  // never grew: no allocation per record
    EXPECT_EQ(b.values<FieldId::FlowBytes>().data(), before);
    b.clear();
  }
  std::size_t row = b.add_row();
  EXPECT_EQ(b.get<FieldId::FlowBytes>(row), 0u);
  EXPECT_FALSE(b.is_set(FieldId::FlowBytes, row));
}

TEST(RecordBatch, GrowsPastItsCapacity) {
  SessionBatch b;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    std::size_t row = b.add_row();
    b.set<FieldId::SessionId>(row, i);
  }
  ASSERT_EQ(b.size(), 1000u);
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(b.get<FieldId::SessionId>(i), i);
  EXPECT_EQ(b.column(FieldId::SessionId).valid_count(1000), 1000u);
}

TEST(RecordBatch, BulkFillThroughMutableColumns) {
  SessionBatch b;
  EXPECT_EQ(b.add_rows(3), 0u);
  EXPECT_EQ(b.add_rows(2), 3u);
  ASSERT_EQ(b.size(), 5u);
  Column& col = b.mutable_column(FieldId::SrvPort);
  col.vec<std::uint16_t>()[4] = 443;
  col.mark_valid(4);
  EXPECT_EQ(b.get<FieldId::SrvPort>(4), 443);
  EXPECT_EQ(col.validity_words()[0], 0b10000u);
  EXPECT_FALSE(b.is_set(FieldId::SrvPort, 3));
  // clear_columns zeroes only the columns named, and empties the batch.
  const FieldId ids[] = {FieldId::SrvPort};
  b.clear_columns(ids);
  EXPECT_TRUE(b.empty());
  b.add_rows(5);
  EXPECT_EQ(b.get<FieldId::SrvPort>(4), 0);
  EXPECT_FALSE(b.is_set(FieldId::SrvPort, 4));
}

}  // namespace
}  // namespace flowscope
