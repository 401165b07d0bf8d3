#include "core/ratelimit/gcra.h"

#include <limits>

#include <gtest/gtest.h>

namespace vx::core::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TimePoint at(Nanos d) {
  return TimePoint(d);
}

// rate 10/s, burst 2: T = 100 ms, tau = 200 ms, limit 3.
GcraParams ten_per_second_burst_two() {
  return GcraParams::from_rate(10, seconds(1), 2);
}

TEST(GcraTest, ComputesEmissionIntervalAndToleranceFromRate) {
  const GcraParams p = ten_per_second_burst_two();
  EXPECT_EQ(p.emission_interval, milliseconds(100));
  EXPECT_EQ(p.tolerance, milliseconds(200));
  EXPECT_EQ(p.limit, 3u);
}

TEST(GcraTest, FirstRequestIsAllowedWithBurstRemaining) {
  const GcraParams p = ten_per_second_burst_two();
  const TimePoint now = at(seconds(100));
  const Decision d = gcra_decide(std::nullopt, now, p);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 2u);
  EXPECT_EQ(d.limit, 3u);
  EXPECT_EQ(d.retry_after, Nanos(0));
  EXPECT_EQ(d.reset_after, milliseconds(100));
  EXPECT_EQ(d.new_tat, now + milliseconds(100));
}

TEST(GcraTest, AllowsExactlyBurstPlusOneAtOnceThenDenies) {
  const GcraParams p = ten_per_second_burst_two();
  const TimePoint now = at(seconds(100));
  Tat tat;
  for (uint64_t i = 0; i < 3; ++i) {
    const Decision d = gcra_decide(tat, now, p);
    ASSERT_TRUE(d.allowed) << "request " << i;
    EXPECT_EQ(d.remaining, 2 - i);
    tat = d.new_tat;
  }
  const Decision denied = gcra_decide(tat, now, p);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0u);
  EXPECT_EQ(denied.retry_after, milliseconds(100));
  EXPECT_EQ(denied.reset_after, milliseconds(300));
  EXPECT_EQ(denied.new_tat, tat) << "a denial must not move the tat";
}

TEST(GcraTest, RefillsOneRequestPerEmissionInterval) {
  const GcraParams p = ten_per_second_burst_two();
  TimePoint now = at(seconds(100));
  Tat tat;
  for (int i = 0; i < 3; ++i) tat = gcra_decide(tat, now, p).new_tat;
  EXPECT_FALSE(gcra_decide(tat, now + milliseconds(100) - Nanos(1), p).allowed);
  now += milliseconds(100);
  Decision d = gcra_decide(tat, now, p);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0u);
  tat = d.new_tat;
  d = gcra_decide(tat, now, p);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(100));
}

TEST(GcraTest, SustainsExactlyTheConfiguredRate) {
  const GcraParams p = GcraParams::from_rate(100, seconds(1), 0);
  Tat tat;
  int allowed = 0;
  // One request every millisecond for one second: exactly rate of them pass.
  for (int ms = 0; ms < 1000; ++ms) {
    const Decision d = gcra_decide(tat, at(seconds(1) + milliseconds(ms)), p);
    if (d.allowed) {
      ++allowed;
      tat = d.new_tat;
    }
  }
  EXPECT_EQ(allowed, 100);
}

TEST(GcraTest, FullBucketAgainAfterResetAfter) {
  const GcraParams p = ten_per_second_burst_two();
  const TimePoint now = at(seconds(5));
  Tat tat;
  Decision d;
  for (int i = 0; i < 3; ++i) {
    d = gcra_decide(tat, now, p);
    tat = d.new_tat;
  }
  const Decision later = gcra_decide(tat, now + d.reset_after, p);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 2u);
}

TEST(GcraTest, ClockGoingBackwardsNeverYieldsNegativeIntervals) {
  const GcraParams p = ten_per_second_burst_two();
  const TimePoint now = at(seconds(100));
  const Decision first = gcra_decide(std::nullopt, now, p);
  const Decision d = gcra_decide(first.new_tat, now - milliseconds(50), p);
  EXPECT_TRUE(d.allowed);
  EXPECT_GE(d.retry_after, Nanos(0));
  EXPECT_GT(d.reset_after, Nanos(0));
}

TEST(GcraTest, LargeClockStepBackCostsAtMostOneEmissionInterval) {
  const GcraParams p = ten_per_second_burst_two();
  const TimePoint before = at(std::chrono::hours(1000));
  const Decision first = gcra_decide(std::nullopt, before, p);
  const TimePoint after = at(seconds(1));  // the clock jumped back by ~1000 hours
  const Decision d = gcra_decide(first.new_tat, after, p);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(100));
  EXPECT_EQ(d.reset_after, milliseconds(300));
  EXPECT_EQ(d.new_tat, after + milliseconds(300)) << "the stored tat heals";
  EXPECT_TRUE(gcra_decide(d.new_tat, after + milliseconds(100), p).allowed);
}

TEST(GcraTest, HugeGapStartsFromAFullBucketWithoutOverflow) {
  const GcraParams p = ten_per_second_burst_two();
  const TimePoint ancient = TimePoint::min();
  const TimePoint now = TimePoint::max() - seconds(1);
  const Decision d = gcra_decide(ancient, now, p);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 2u);
  EXPECT_EQ(d.reset_after, milliseconds(100));
}

TEST(GcraTest, TatNearTheEndOfTimeSaturatesInsteadOfWrapping) {
  const GcraParams p = ten_per_second_burst_two();
  const TimePoint now = TimePoint::max() - Nanos(10);
  const Decision d = gcra_decide(std::nullopt, now, p);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.new_tat, TimePoint::max());
}

TEST(GcraTest, NegativeTimePointsWork) {
  const GcraParams p = ten_per_second_burst_two();
  const TimePoint now = TimePoint::min() + seconds(1);
  Tat tat;
  for (int i = 0; i < 3; ++i) tat = gcra_decide(tat, now, p).new_tat;
  EXPECT_FALSE(gcra_decide(tat, now, p).allowed);
}

TEST(GcraTest, FractionalEmissionIntervalRoundsDownToWholeNanoseconds) {
  const GcraParams p = GcraParams::from_rate(3, seconds(1), 0);
  EXPECT_EQ(p.emission_interval, Nanos(333'333'333));
}

TEST(GcraTest, RateAbovePeriodResolutionKeepsOneNanosecondInterval) {
  const GcraParams p = GcraParams::from_rate(1'000'000'000'000ULL, Nanos(1000), 5);
  EXPECT_EQ(p.emission_interval, Nanos(1));
  EXPECT_EQ(p.limit, 6u);
}

TEST(GcraTest, ClampsHugeBurstToTheMaximumWindow) {
  const GcraParams p = GcraParams::from_rate(1, std::chrono::hours(24), 1'000'000);
  EXPECT_LE(p.tolerance.count() + p.emission_interval.count(), kMaxWindowNs);
  EXPECT_EQ(p.limit, static_cast<uint64_t>(kMaxWindowNs / p.emission_interval.count()));
}

TEST(GcraTest, ZeroRateAndPeriodAreTreatedAsOne) {
  const GcraParams p = GcraParams::from_rate(0, Nanos(0), 0);
  EXPECT_EQ(p.emission_interval, Nanos(1));
  EXPECT_EQ(p.limit, 1u);
}

}  // namespace
}  // namespace vx::core::ratelimit
