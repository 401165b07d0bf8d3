#include "core/lb/round_robin_schedule.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace vx::core::lb {
namespace {

TEST(RoundRobinScheduleTest, MatchesNginxSmoothSequenceForFiveOneOne) {
  const std::vector<uint32_t> weights{5, 1, 1};
  // nginx's documented order for a=5, b=1, c=1: a a b a c a a.
  EXPECT_EQ(smooth_round_robin_schedule(weights), (std::vector<uint32_t>{0, 0, 1, 0, 2, 0, 0}));
}

TEST(RoundRobinScheduleTest, EqualWeightsAlternate) {
  const std::vector<uint32_t> weights{1, 1, 1};
  EXPECT_EQ(smooth_round_robin_schedule(weights), (std::vector<uint32_t>{0, 1, 2}));
}

TEST(RoundRobinScheduleTest, CommonFactorIsDividedOut) {
  const std::vector<uint32_t> weights{10, 2, 2};
  EXPECT_EQ(smooth_round_robin_schedule(weights), (std::vector<uint32_t>{0, 0, 1, 0, 2, 0, 0}));
}

TEST(RoundRobinScheduleTest, EachIndexAppearsInProportionToItsWeight) {
  const std::vector<uint32_t> weights{3, 7, 2};
  const auto schedule = smooth_round_robin_schedule(weights);
  ASSERT_EQ(schedule.size(), 12u);
  EXPECT_EQ(std::count(schedule.begin(), schedule.end(), 0u), 3);
  EXPECT_EQ(std::count(schedule.begin(), schedule.end(), 1u), 7);
  EXPECT_EQ(std::count(schedule.begin(), schedule.end(), 2u), 2);
}

TEST(RoundRobinScheduleTest, HugeWeightsAreScaledDownAndKeepEveryEndpoint) {
  const std::vector<uint32_t> weights{4'000'000'000u, 1, 3'999'999'999u};
  const auto schedule = smooth_round_robin_schedule(weights);
  EXPECT_LE(schedule.size(), kMaxRoundRobinSchedule + weights.size());
  EXPECT_EQ(std::count(schedule.begin(), schedule.end(), 1u), 1);
  const auto heavy = std::count(schedule.begin(), schedule.end(), 0u);
  EXPECT_GT(heavy, 30000);
}

TEST(RoundRobinScheduleTest, EmptyInputGivesEmptySchedule) {
  EXPECT_TRUE(smooth_round_robin_schedule({}).empty());
}

}  // namespace
}  // namespace vx::core::lb
