#include "core/k8s/watch_backoff.h"

#include <gtest/gtest.h>

namespace vx::core::k8s {
namespace {

using std::chrono::milliseconds;

TEST(WatchBackoffTest, DoublesFromTheMinimumUpToTheCap) {
  EXPECT_EQ(backoff_delay(0, 0), milliseconds(0));
  EXPECT_EQ(backoff_delay(1, 0), milliseconds(200));
  EXPECT_EQ(backoff_delay(2, 0), milliseconds(400));
  EXPECT_EQ(backoff_delay(6, 0), milliseconds(6400));
  EXPECT_EQ(backoff_delay(7, 0), milliseconds(10000));
  EXPECT_EQ(backoff_delay(1000, 0), milliseconds(10000));
}

TEST(WatchBackoffTest, JitterTakesAtMostHalfOff) {
  for (uint64_t r = 0; r < 5000; r += 7) {
    const auto d = backoff_delay(3, r);
    EXPECT_GE(d, milliseconds(400));
    EXPECT_LE(d, milliseconds(800));
  }
  EXPECT_EQ(backoff_delay(3, 400), milliseconds(400));
}

}  // namespace
}  // namespace vx::core::k8s
