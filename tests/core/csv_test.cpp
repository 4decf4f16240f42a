#include "core/csv.h"

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

}  // namespace
}  // namespace flowscope
