#include "core/retry/retry_policy.h"

#include <algorithm>

namespace vx::core::retry {

RetryPolicy::RetryPolicy(const std::optional<config::RetryPolicy>& retries, bool idempotent)
    : retries_(retries),
      retries_left_(retries && idempotent ? retries->attempts : 0),
      stale_retry_left_(idempotent) {}

bool RetryPolicy::allows(config::RetryOn on) const {
  return retries_ && std::find(retries_->on.begin(), retries_->on.end(), on) != retries_->on.end();
}

bool RetryPolicy::take_retry(config::RetryOn on) {
  if (!allows(on) || retries_left_ == 0) return false;
  --retries_left_;
  return true;
}

RetryDecision RetryPolicy::after_connect_failure() {
  return take_retry(config::RetryOn::ConnectFailure) ? RetryDecision::Retry : RetryDecision::GiveUp;
}

RetryVerdict RetryPolicy::after_exchange_failure(const ExchangeFailure& failure) {
  const bool may_resend = failure.resendable && !failure.response_started;
  const bool stale = may_resend && failure.reused && stale_retry_left_;
  RetryVerdict verdict;
  verdict.blame_endpoint = failure.error.source() == http::ErrorSource::Upstream && !stale;
  if (stale) {
    stale_retry_left_ = false;
    fresh_only_ = true;
    verdict.decision = RetryDecision::RetryFresh;
  } else if (may_resend && take_retry(config::RetryOn::Reset)) {
    verdict.decision = RetryDecision::Retry;
  }
  return verdict;
}

}  // namespace vx::core::retry
