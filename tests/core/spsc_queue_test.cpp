#include "core/spsc_queue.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace flowscope {
namespace {

TEST(SpscQueue, BoundedFifo) {
  SpscQueue<int> q(3);
  for (int i = 1; i <= 3; ++i) {
    int v = i;
    EXPECT_TRUE(q.try_push(v));
  }
  int extra = 4;
  EXPECT_FALSE(q.try_push(extra));
  EXPECT_EQ(extra, 4);
  EXPECT_EQ(q.size(), 3u);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(q.try_pop(), i);
  EXPECT_FALSE(q.try_pop().has_value());
  EXPECT_TRUE(q.empty());
}

// Under TSan (make tsan) this also checks the release/acquire pairs: every item arrives whole
// and in order across threads.
TEST(SpscQueue, TwoThreadsPassEveryItemInOrder) {
  SpscQueue<std::vector<int>> q(8);
  constexpr int kItems = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      std::vector<int> item(3, i);
      while (!q.try_push(item)) std::this_thread::yield();
    }
  });
  int expected = 0;
  while (expected < kItems) {
    auto item = q.try_pop();
    if (!item) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_EQ(*item, std::vector<int>(3, expected));
    ++expected;
  }
  producer.join();
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace flowscope
