// A rate-limit policy ready for the data plane: config::RateLimitPolicy with its key parsed and
// its GCRA parameters computed once, so no request divides or parses. Immutable; shared freely.
#pragma once

#include <string>

#include "core/config/config.h"
#include "core/ratelimit/gcra.h"
#include "core/ratelimit/rate_limit_key.h"
#include "core/result.h"

namespace vx::core::ratelimit {

struct Policy {
  std::string name;
  RateLimitKey key;
  GcraParams gcra;

  // Refuses a bad key spec (the message says why); rate/period 0 are clamped to 1 (validation
  // already reports them), and huge values are clamped as GcraParams::from_rate says.
  static Result<Policy, std::string> from_config(const config::RateLimitPolicy& p);
};

}  // namespace vx::core::ratelimit
