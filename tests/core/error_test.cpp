#include "core/error.h"

#include <gtest/gtest.h>

#include "core/result.h"

namespace flowscope {
namespace {

Result<int> half(int v) {
  if (v % 2 != 0) return Error(ErrorCode::InvalidArgument, "odd", SourcePos{3, 0});
  return v / 2;
}

TEST(Result, HoldsAValueOrAnError) {
  auto good = half(8);
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 4);
  auto bad = half(7);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(bad.error().message, "odd");
  EXPECT_EQ(bad.error().where->offset, 3u);
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Result, VoidAndMoveOnly) {
  Result<void> fine;
  EXPECT_TRUE(fine);
  Result<void> failed = Error(ErrorCode::Io, "disk full");
  EXPECT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "disk full");
  Result<std::unique_ptr<int>> owned = std::make_unique<int>(5);
  std::unique_ptr<int> taken = *std::move(owned);
  EXPECT_EQ(*taken, 5);
}

TEST(ErrorCode, NamesComeFromTheList) {
  EXPECT_EQ(error_code_name(ErrorCode::Truncated), "Truncated");
  EXPECT_EQ(error_code_name(ErrorCode::Corruption), "Corruption");
  EXPECT_FALSE(error_code_description(ErrorCode::Parse).empty());
}

TEST(RenderError, WithoutPositionIsOneLine) {
  EXPECT_EQ(render_error("config", "x", Error(ErrorCode::Parse, "bad")), "config: bad");
  // A position past the end puts the caret just after the input.
  EXPECT_EQ(render_error("filter", "ab", Error(ErrorCode::Parse, "more", SourcePos{9, 0})),
            "filter: more\n  ab\n    ^");
}

}  // namespace
}  // namespace flowscope
