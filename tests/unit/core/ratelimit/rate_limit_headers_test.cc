#include "core/ratelimit/rate_limit_headers.h"

#include <gtest/gtest.h>

namespace vx::core::ratelimit {
namespace {

using std::chrono::milliseconds;

TEST(RateLimitHeadersTest, AllowedAnswerCarriesLimitRemainingAndResetOnly) {
  Decision d;
  d.allowed = true;
  d.limit = 21;
  d.remaining = 20;
  d.reset_after = milliseconds(10);
  const RateLimitHeaderValues v = rate_limit_header_values(d);
  EXPECT_EQ(v.limit, 21u);
  EXPECT_EQ(v.remaining, 20u);
  EXPECT_EQ(v.reset_seconds, 1u);
  EXPECT_EQ(v.retry_after_seconds, 0u);
  EXPECT_EQ(v.retry_after_ms, 0u);
}

TEST(RateLimitHeadersTest, DeniedAnswerRoundsRetryAfterUp) {
  Decision d;
  d.allowed = false;
  d.limit = 3;
  d.retry_after = milliseconds(1500) + Nanos(1);
  d.reset_after = milliseconds(2000);
  const RateLimitHeaderValues v = rate_limit_header_values(d);
  EXPECT_EQ(v.retry_after_seconds, 2u);
  EXPECT_EQ(v.retry_after_ms, 1501u);
  EXPECT_EQ(v.reset_seconds, 2u);
  EXPECT_EQ(v.remaining, 0u);
}

TEST(RateLimitHeadersTest, WholeSecondsStayWhole) {
  EXPECT_EQ(ceil_div(std::chrono::seconds(3), std::chrono::seconds(1)), 3u);
  EXPECT_EQ(ceil_div(Nanos(0), std::chrono::seconds(1)), 0u);
  EXPECT_EQ(ceil_div(Nanos(-5), std::chrono::seconds(1)), 0u);
}

}  // namespace
}  // namespace vx::core::ratelimit
