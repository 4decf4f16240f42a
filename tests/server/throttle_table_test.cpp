// ThrottleTable: bounded, evicting quiet entries before lockouts, counting evictions by reason.
#include "server/throttle_table.h"

#include <string>

#include <gtest/gtest.h>

namespace flowscope::server {
namespace {

const TimeMs kNow = time_from_ms(1'790'000'000'000);

void fail(Failures& f) { f.times.push_back(kNow); }
void lock(Failures& f) { f.locked_until = kNow + std::chrono::minutes(5); }

TEST(ThrottleTable, ALockoutOutlivesAFloodOfQuietEntries) {
  ThrottleTable<std::string> t(16);
  t.update("guesser", kNow, lock);
  for (int i = 0; i < 1000; ++i) t.update("name" + std::to_string(i), kNow, fail);
  EXPECT_EQ(t.size(), 16u);
  ASSERT_NE(t.find("guesser"), nullptr);
  EXPECT_GT(t.find("guesser")->locked_until, kNow);
  EXPECT_EQ(t.evictions(ThrottleEviction::Quiet), 1000u - 15u);
  EXPECT_EQ(t.evictions(ThrottleEviction::Locked), 0u);
  // The newest quiet entries stay, the oldest went.
  EXPECT_NE(t.find("name999"), nullptr);
  EXPECT_EQ(t.find("name0"), nullptr);
}

TEST(ThrottleTable, LeastRecentlyFailedGoesFirst) {
  ThrottleTable<std::string> t(3);
  t.update("a", kNow, fail);
  t.update("b", kNow, fail);
  t.update("c", kNow, fail);
  t.update("a", kNow, fail);  // a failed again: b is now the oldest
  t.update("d", kNow, fail);
  EXPECT_EQ(t.find("b"), nullptr);
  EXPECT_NE(t.find("a"), nullptr);
  EXPECT_EQ(t.find("a")->times.size(), 2u);
}

TEST(ThrottleTable, PassedLockoutsGoBeforeQuietOnesAndLockoutsLast) {
  ThrottleTable<std::string> t(3);
  t.update("old-lock", kNow - std::chrono::hours(1),
           [](Failures& f) { f.locked_until = kNow - std::chrono::minutes(1); });
  t.update("quiet", kNow, fail);
  t.update("lock", kNow, lock);
  t.update("new", kNow, fail);  // evicts the passed lockout
  EXPECT_EQ(t.find("old-lock"), nullptr);
  EXPECT_EQ(t.evictions(ThrottleEviction::LockPassed), 1u);
  t.update("newer", kNow, fail);  // evicts the oldest quiet entry
  EXPECT_EQ(t.find("quiet"), nullptr);
  EXPECT_NE(t.find("lock"), nullptr);
  // Only lockouts left: the one ending first goes.
  ThrottleTable<int> all_locked(2);
  all_locked.update(1, kNow, lock);
  all_locked.update(2, kNow, lock);
  all_locked.update(3, kNow, lock);
  EXPECT_EQ(all_locked.find(1), nullptr);
  EXPECT_EQ(all_locked.evictions(ThrottleEviction::Locked), 1u);
  EXPECT_EQ(all_locked.size(), 2u);
}

TEST(ThrottleTable, EraseForgets) {
  ThrottleTable<int> t(4);
  t.update(1, kNow, lock);
  t.erase(1);
  t.erase(7);
  EXPECT_EQ(t.find(1), nullptr);
  EXPECT_EQ(t.size(), 0u);
  t.update(1, kNow, fail);  // its list position was released: re-adding works
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace flowscope::server
