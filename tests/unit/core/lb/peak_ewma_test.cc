#include "core/lb/peak_ewma.h"

#include <chrono>
#include <cmath>

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace vx::core::lb {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

config::PeakEwmaSettings settings(int decay_ms, int default_rtt_ms) {
  return {.decay = milliseconds(decay_ms), .default_rtt = milliseconds(default_rtt_ms)};
}

TEST(PeakEwmaTest, StartsAtDefaultRtt) {
  test::FakeClock clock;
  PeakEwma ewma(settings(10000, 3), clock.now());
  EXPECT_DOUBLE_EQ(ewma.value_ms_at(clock.now()), 3.0);
  clock.advance(seconds(100));
  EXPECT_DOUBLE_EQ(ewma.value_ms_at(clock.now()), 3.0);
}

TEST(PeakEwmaTest, HigherSampleReplacesTheEstimateAtOnce) {
  test::FakeClock clock;
  PeakEwma ewma(settings(10000, 1), clock.now());
  clock.advance(milliseconds(1));
  ewma.observe(milliseconds(50), clock.now());
  EXPECT_DOUBLE_EQ(ewma.value_ms_at(clock.now()), 50.0);
}

TEST(PeakEwmaTest, LowerSampleBlendsByElapsedTime) {
  test::FakeClock clock;
  PeakEwma ewma(settings(10000, 1), clock.now());
  ewma.observe(milliseconds(100), clock.now());
  clock.advance(seconds(10));  // one decay period
  ewma.observe(milliseconds(10), clock.now());
  const double w = std::exp(-1.0);
  EXPECT_NEAR(ewma.value_ms_at(clock.now()), 100 * w + 10 * (1 - w), 1e-9);
}

TEST(PeakEwmaTest, SampleAtTheSameInstantOnlyCountsAsAPeak) {
  test::FakeClock clock;
  PeakEwma ewma(settings(10000, 1), clock.now());
  ewma.observe(milliseconds(40), clock.now());
  ewma.observe(milliseconds(5), clock.now());
  EXPECT_DOUBLE_EQ(ewma.value_ms_at(clock.now()), 40.0);
  ewma.observe(milliseconds(60), clock.now());
  EXPECT_DOUBLE_EQ(ewma.value_ms_at(clock.now()), 60.0);
}

// The property that makes the decay "by time": a busy endpoint does not forget a slow period
// faster than a quiet one.
TEST(PeakEwmaTest, DecaysTheSameWhetherOneOrAThousandSamplesASecond) {
  test::FakeClock quiet_clock;
  test::FakeClock busy_clock;
  PeakEwma quiet(settings(10000, 1), quiet_clock.now());
  PeakEwma busy(settings(10000, 1), busy_clock.now());
  quiet.observe(milliseconds(500), quiet_clock.now());
  busy.observe(milliseconds(500), busy_clock.now());
  for (int s = 0; s < 10; ++s) {
    quiet_clock.advance(seconds(1));
    quiet.observe(milliseconds(2), quiet_clock.now());
    for (int i = 0; i < 1000; ++i) {
      busy_clock.advance(milliseconds(1));
      busy.observe(milliseconds(2), busy_clock.now());
    }
  }
  const double expected = 2 + (500 - 2) * std::exp(-1.0);  // 10 s = one decay period
  EXPECT_NEAR(quiet.value_ms_at(quiet_clock.now()), expected, 1e-6);
  EXPECT_NEAR(busy.value_ms_at(busy_clock.now()), expected, 1e-6);
}

TEST(PeakEwmaTest, ReadingDecaysAPenalisedIdleEndpointBackTowardDefault) {
  test::FakeClock clock;
  PeakEwma ewma(settings(10000, 1), clock.now());
  ewma.observe(seconds(1), clock.now());
  clock.advance(seconds(10));
  EXPECT_NEAR(ewma.value_ms_at(clock.now()), 1 + 999 * std::exp(-1.0), 1e-6);
  clock.advance(seconds(90));
  const double later = ewma.value_ms_at(clock.now());
  EXPECT_GT(later, 1.0);
  EXPECT_LT(later, 1.2);
}

TEST(PeakEwmaTest, ReadingDoesNotChangeTheStoredEstimate) {
  test::FakeClock clock;
  PeakEwma read_often(settings(10000, 1), clock.now());
  PeakEwma never_read(settings(10000, 1), clock.now());
  read_often.observe(milliseconds(300), clock.now());
  never_read.observe(milliseconds(300), clock.now());
  for (int i = 0; i < 1000; ++i) {
    clock.advance(milliseconds(5));
    (void)read_often.value_ms_at(clock.now());
  }
  read_often.observe(milliseconds(20), clock.now());
  never_read.observe(milliseconds(20), clock.now());
  EXPECT_DOUBLE_EQ(read_often.value_ms_at(clock.now()), never_read.value_ms_at(clock.now()));
  EXPECT_NEAR(never_read.value_ms_at(clock.now()), 20 + 280 * std::exp(-0.5), 1e-6);
}

TEST(PeakEwmaTest, SampleAfterLongIdleMostlyReplacesTheOldEstimate) {
  test::FakeClock clock;
  PeakEwma ewma(settings(10000, 1), clock.now());
  ewma.observe(seconds(1), clock.now());
  clock.advance(seconds(60));
  ewma.observe(milliseconds(5), clock.now());
  EXPECT_NEAR(ewma.value_ms_at(clock.now()), 5 + 995 * std::exp(-6.0), 1e-6);
}

TEST(PeakEwmaTest, ShortIntervalsMatchTheExactExponential) {
  // Exercises the series used for small elapsed/decay against std::exp.
  test::FakeClock clock;
  PeakEwma ewma(settings(10000, 1), clock.now());
  ewma.observe(milliseconds(100), clock.now());
  clock.advance(microseconds(500));
  ewma.observe(milliseconds(0), clock.now());
  EXPECT_NEAR(ewma.value_ms_at(clock.now()), 100 * std::exp(-0.5 / 10000.0), 1e-9);
}

TEST(PeakEwmaTest, LateSampleStampedBeforeTheLastUpdateCanStillRaiseThePeak) {
  test::FakeClock clock;
  PeakEwma ewma(settings(10000, 1), clock.now());
  const TimePoint earlier = clock.now();
  clock.advance(seconds(1));
  ewma.observe(milliseconds(10), clock.now());
  ewma.observe(milliseconds(1), earlier);  // below: ignored, its interval is accounted for
  EXPECT_DOUBLE_EQ(ewma.value_ms_at(clock.now()), 10.0);
  ewma.observe(milliseconds(30), earlier);
  EXPECT_DOUBLE_EQ(ewma.value_ms_at(clock.now()), 30.0);
}

TEST(PeakEwmaScoreTest, GrowsWithLatencyAndWithLoad) {
  EXPECT_DOUBLE_EQ(peak_ewma_score(0.0, 0), 1.0);
  EXPECT_DOUBLE_EQ(peak_ewma_score(4.0, 0), 5.0);
  EXPECT_DOUBLE_EQ(peak_ewma_score(4.0, 2), 15.0);
  EXPECT_LT(peak_ewma_score(1.0, 3), peak_ewma_score(10.0, 0));
}

}  // namespace
}  // namespace vx::core::lb
