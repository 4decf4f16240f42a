#include "core/csv.h"

#include <sstream>

#include <gtest/gtest.h>

namespace flowscope {
namespace {

TEST(Csv, SplitsQuotedAndPaddedCells) {
  std::vector<std::string> cells;
  ASSERT_TRUE(split_csv_line(R"(a, b ,"c,d","say ""hi""",)", cells));
  EXPECT_EQ(cells, (std::vector<std::string>{"a", "b", "c,d", "say \"hi\"", ""}));
  ASSERT_TRUE(split_csv_line("\" padded \",x\r", cells));
  EXPECT_EQ(cells, (std::vector<std::string>{" padded ", "x"}));
  EXPECT_FALSE(split_csv_line("\"open,x", cells));
}

TEST(Csv, QuotesOnlyWhatNeedsIt) {
  std::string line;
  append_csv_cell(line, "plain");
  EXPECT_EQ(line, "plain");
  EXPECT_EQ(csv_line({"a,b", "say \"hi\"", "two\nlines", "cr\r", "", "x"}),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",,x\n");
}

TEST(Csv, FieldsWithCommasQuotesAndLineBreaksRoundTrip) {
  const std::vector<std::vector<std::string>> records = {
      {"10.0.0.1", "a,b", "say \"hi\"", "two\nlines", "\"", ",\n\"\r\n", ""},
      {"plain", "", "x"},
      {"\"quoted,\"\n\n\"\"", "end"},
  };
  std::string text;
  for (const auto& r : records) text += csv_line(r);
  std::istringstream in(text);
  std::string record;
  std::vector<std::string> cells;
  std::size_t lines = 0;
  for (const auto& r : records) {
    ASSERT_TRUE(read_csv_record(in, record, lines));
    ASSERT_TRUE(split_csv_line(record, cells)) << record;
    EXPECT_EQ(cells, r);
  }
  EXPECT_FALSE(read_csv_record(in, record, lines));
  EXPECT_EQ(lines, 4u + 1u + 3u);  // the line breaks inside values count
}

TEST(Csv, AnUnclosedQuoteStopsAfterTheRecordLimit) {
  std::string text = "\"open";
  for (std::size_t i = 0; i < kMaxCsvRecordLines + 5; ++i) text += "\nmore";
  std::istringstream in(text);
  std::string record;
  std::vector<std::string> cells;
  std::size_t lines = 0;
  ASSERT_TRUE(read_csv_record(in, record, lines));
  EXPECT_EQ(lines, kMaxCsvRecordLines);
  EXPECT_FALSE(split_csv_line(record, cells));
  ASSERT_TRUE(read_csv_record(in, record, lines));  // the rest is read on
  EXPECT_EQ(record, "more");
}

}  // namespace
}  // namespace flowscope
