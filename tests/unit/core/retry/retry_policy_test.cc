#include "core/retry/retry_policy.h"

#include <gtest/gtest.h>

namespace vx::core::retry {
namespace {

using config::RetryOn;
using http::Error;
using http::ErrorKind;

const Error kReset{ErrorKind::UpstreamReset, "reset"};
const Error kTimeout{ErrorKind::UpstreamTimeout, "timeout"};
const Error kClientGone{ErrorKind::DownstreamClosed, "gone"};

std::optional<config::RetryPolicy> retries(uint32_t attempts, std::vector<RetryOn> on) {
  config::RetryPolicy p;
  p.attempts = attempts;
  p.on = std::move(on);
  return p;
}

TEST(RetryPolicyTest, WithoutRetriesConnectFailuresGiveUp) {
  const std::optional<config::RetryPolicy> none;
  RetryPolicy policy(none, true);
  EXPECT_EQ(policy.after_connect_failure(), RetryDecision::GiveUp);
}

TEST(RetryPolicyTest, ConnectFailuresRetryUpToTheAttemptsAllowed) {
  const auto r = retries(2, {RetryOn::ConnectFailure});
  RetryPolicy policy(r, true);
  EXPECT_EQ(policy.after_connect_failure(), RetryDecision::Retry);
  EXPECT_EQ(policy.after_connect_failure(), RetryDecision::Retry);
  EXPECT_EQ(policy.after_connect_failure(), RetryDecision::GiveUp);
}

TEST(RetryPolicyTest, NonIdempotentMethodsNeverRetry) {
  const auto r = retries(3, {RetryOn::ConnectFailure, RetryOn::Reset});
  RetryPolicy policy(r, false);
  EXPECT_EQ(policy.after_connect_failure(), RetryDecision::GiveUp);
  const auto verdict = policy.after_exchange_failure({kReset, true, false, true});
  EXPECT_EQ(verdict.decision, RetryDecision::GiveUp);  // not even a stale keep-alive
  EXPECT_TRUE(verdict.blame_endpoint);
}

TEST(RetryPolicyTest, OnlyListedConditionsRetry) {
  const auto r = retries(3, {RetryOn::Reset});
  RetryPolicy policy(r, true);
  EXPECT_EQ(policy.after_connect_failure(), RetryDecision::GiveUp);
  EXPECT_EQ(policy.after_exchange_failure({kReset, true, false, false}).decision,
            RetryDecision::Retry);
}

TEST(RetryPolicyTest, AResetRetriesOnlyWhileTheRequestCanBeResent) {
  const auto r = retries(3, {RetryOn::Reset});
  RetryPolicy policy(r, true);
  // A body was consumed: not resendable.
  EXPECT_EQ(policy.after_exchange_failure({kReset, false, false, false}).decision,
            RetryDecision::GiveUp);
  // A response byte reached the client.
  EXPECT_EQ(policy.after_exchange_failure({kReset, true, true, false}).decision,
            RetryDecision::GiveUp);
}

TEST(RetryPolicyTest, AStaleKeepAliveRetriesOnceOnAFreshConnectionWithoutBlame) {
  const std::optional<config::RetryPolicy> none;
  RetryPolicy policy(none, true);
  EXPECT_FALSE(policy.fresh_only());
  const auto first = policy.after_exchange_failure({kReset, true, false, true});
  EXPECT_EQ(first.decision, RetryDecision::RetryFresh);
  EXPECT_FALSE(first.blame_endpoint);
  EXPECT_TRUE(policy.fresh_only());
  const auto second = policy.after_exchange_failure({kReset, true, false, true});
  EXPECT_EQ(second.decision, RetryDecision::GiveUp);
  EXPECT_TRUE(second.blame_endpoint);
}

TEST(RetryPolicyTest, TheStaleRetryDoesNotUseUpAConfiguredRetry) {
  const auto r = retries(1, {RetryOn::Reset});
  RetryPolicy policy(r, true);
  EXPECT_EQ(policy.after_exchange_failure({kReset, true, false, true}).decision,
            RetryDecision::RetryFresh);
  EXPECT_EQ(policy.after_exchange_failure({kReset, true, false, false}).decision,
            RetryDecision::Retry);
  EXPECT_EQ(policy.after_exchange_failure({kReset, true, false, false}).decision,
            RetryDecision::GiveUp);
}

TEST(RetryPolicyTest, TimeoutsAreBlamedButNeverRetried) {
  const auto r = retries(3, {RetryOn::ConnectFailure, RetryOn::Reset});
  RetryPolicy policy(r, true);
  const auto verdict = policy.after_exchange_failure({kTimeout, false, false, false});
  EXPECT_EQ(verdict.decision, RetryDecision::GiveUp);
  EXPECT_TRUE(verdict.blame_endpoint);
}

TEST(RetryPolicyTest, AClientFailureIsNotTheEndpointsFault) {
  const auto r = retries(3, {RetryOn::Reset});
  RetryPolicy policy(r, true);
  const auto verdict = policy.after_exchange_failure({kClientGone, false, false, false});
  EXPECT_EQ(verdict.decision, RetryDecision::GiveUp);
  EXPECT_FALSE(verdict.blame_endpoint);
}

}  // namespace
}  // namespace vx::core::retry
