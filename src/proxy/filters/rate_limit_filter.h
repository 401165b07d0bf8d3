// RateLimitFilter: a route's rate_limit policy (SPEC.md rate_limits, §3 429): one decision per
// request from the worker's store (proxy/rate_limit_stage.h), the RateLimit-* fields on every
// answer, the 429 when denied, and a violation for the ban registry. Immutable; shared by all
// workers (each asks its own worker's store).
#pragma once

#include <cstdint>

#include "core/ratelimit/policy.h"
#include "ports/http_filter.h"

namespace vx::proxy {

class RateLimitFilter final : public ports::HttpFilter {
 public:
  // `policy` lives in the Runtime holding this filter; `policy_index` is its position there.
  RateLimitFilter(const core::ratelimit::Policy& policy, uint32_t policy_index)
      : policy_(policy), policy_index_(policy_index) {}

  std::string_view name() const override { return "rate_limit"; }
  core::filter::HookSet hooks() const override { return core::filter::Hook::RequestHead; }
  // Holds the request for the store's decision (no wait with the local store; one Redis round
  // trip, bounded by its timeout, with Redis). A worker without a store lets it through.
  core::filter::FilterStatus on_request_head(ports::FilterStream& stream) const override;

 private:
  const core::ratelimit::Policy& policy_;
  const uint32_t policy_index_;
};

}  // namespace vx::proxy
