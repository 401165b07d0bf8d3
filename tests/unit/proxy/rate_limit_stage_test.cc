#include "proxy/rate_limit_stage.h"

#include <gtest/gtest.h>

namespace vx::proxy {
namespace {

TEST(RateLimitStageTest, Ipv4MappedClientsAreKeyedAndBannedByTheirIpv4Address) {
  EXPECT_EQ(canonical_client_ip("::ffff:127.0.0.7"), "127.0.0.7");
  EXPECT_EQ(canonical_client_ip("127.0.0.7"), "127.0.0.7");
  EXPECT_EQ(canonical_client_ip("::1"), "::1");
  EXPECT_EQ(canonical_client_ip("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(canonical_client_ip("::ffff:"), "::ffff:");
  EXPECT_EQ(canonical_client_ip("::ffff:abcd"), "::ffff:abcd");  // no dotted IPv4 part
}

TEST(RateLimitStageTest, AllowedAnswersCarryLimitRemainingResetButNoRetryAfter) {
  RateLimitVerdict verdict;
  verdict.outcome = RateLimitOutcome::Allowed;
  verdict.values = {.limit = 21, .remaining = 20, .reset_seconds = 1};
  RateLimitFields fields;
  make_rate_limit_fields(verdict, fields);
  const core::http::HeaderList want = {
      {"ratelimit-limit", "21"}, {"ratelimit-remaining", "20"}, {"ratelimit-reset", "1"}};
  ASSERT_EQ(fields.headers.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(fields.headers[i].name, want[i].name);
    EXPECT_EQ(fields.headers[i].value, want[i].value);
  }
}

TEST(RateLimitStageTest, DeniedAnswersAddRetryAfterInWholeSeconds) {
  RateLimitVerdict verdict;
  verdict.outcome = RateLimitOutcome::Limited;
  verdict.deny = true;
  verdict.values = {.limit = 4,
                    .remaining = 0,
                    .reset_seconds = 4,
                    .retry_after_seconds = 2,
                    .retry_after_ms = 1500};
  RateLimitFields fields;
  make_rate_limit_fields(verdict, fields);
  ASSERT_EQ(fields.headers.size(), 4u);
  EXPECT_EQ(core::http::find_header(fields.headers, "retry-after"), "2");
  EXPECT_EQ(core::http::find_header(fields.headers, "ratelimit-remaining"), "0");
  EXPECT_EQ(rate_limited_body(1500), R"({"error":"Rate limit exceeded","retry_after_ms":1500})");
}

TEST(RateLimitStageTest, AStoreErrorLetThroughAddsNoFieldsAndRefusingLeavesNoStaleOnes) {
  RateLimitFields fields;
  RateLimitVerdict denied;
  denied.outcome = RateLimitOutcome::Error;
  denied.deny = true;
  denied.values = {.limit = 1, .retry_after_seconds = 1, .retry_after_ms = 1000};
  make_rate_limit_fields(denied, fields);
  EXPECT_EQ(fields.headers.size(), 4u);
  RateLimitVerdict allowed_on_error;
  allowed_on_error.outcome = RateLimitOutcome::Error;
  make_rate_limit_fields(allowed_on_error, fields);
  EXPECT_TRUE(fields.headers.empty());
  make_rate_limit_fields(RateLimitVerdict{}, fields);
  EXPECT_TRUE(fields.headers.empty());
}

}  // namespace
}  // namespace vx::proxy
