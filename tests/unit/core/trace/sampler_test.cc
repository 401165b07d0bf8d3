#include "core/trace/sampler.h"

#include <gtest/gtest.h>

namespace vx::core::trace {
namespace {

TEST(SamplerTest, ZeroAndOneAreAbsolute) {
  Xoshiro256 random(3);
  for (int i = 0; i < 1000; ++i) {
    const TraceId id = new_trace_id(random);
    EXPECT_FALSE(sample_new_trace(id, 0.0));
    EXPECT_TRUE(sample_new_trace(id, 1.0));
  }
}

TEST(SamplerTest, RatioHoldsOverManyTraces) {
  Xoshiro256 random(11);
  constexpr int kTraces = 100'000;
  int sampled = 0;
  for (int i = 0; i < kTraces; ++i) sampled += sample_new_trace(new_trace_id(random), 0.25);
  // Binomial(100000, 0.25): sd ~137; 5 sd either way.
  EXPECT_NEAR(sampled, 25'000, 700);
}

TEST(SamplerTest, ContinuedTracesKeepTheCallersDecision) {
  Xoshiro256 random(5);
  TraceParent parent{new_trace_id(random), new_span_id(random), kSampledFlag};
  EXPECT_TRUE(should_sample(parent, parent.trace_id, 0.0));
  parent.flags = 0;
  EXPECT_FALSE(should_sample(parent, parent.trace_id, 1.0));
  EXPECT_TRUE(should_sample(std::nullopt, parent.trace_id, 1.0));
}

TEST(SamplerTest, TheDecisionDependsOnTheTraceIdOnly) {
  Xoshiro256 random(9);
  for (int i = 0; i < 100; ++i) {
    const TraceId id = new_trace_id(random);
    EXPECT_EQ(sample_new_trace(id, 0.5), sample_new_trace(id, 0.5));
  }
}

}  // namespace
}  // namespace vx::core::trace
