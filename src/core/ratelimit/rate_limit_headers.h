// The numbers of a rate-limit answer (SPEC.md §3): RateLimit-Limit / -Remaining / -Reset on every
// limited route's response, Retry-After and the JSON retry_after_ms on a 429. Pure; any thread.
#pragma once

#include <cstdint>

#include "core/ratelimit/gcra.h"

namespace vx::core::ratelimit {

// RateLimit-Limit is burst + 1, not `rate`: it is the bucket's capacity, the unit Remaining
// counts in (a full bucket has Limit requests available at once), so Remaining <= Limit always
// holds. RateLimit-Reset is the delay until the bucket is full again. All seconds round up,
// so a client that waits the advertised time is never refused for being a few ms early.
struct RateLimitHeaderValues {
  uint64_t limit = 0;                // RateLimit-Limit
  uint64_t remaining = 0;            // RateLimit-Remaining
  uint64_t reset_seconds = 0;        // RateLimit-Reset
  uint64_t retry_after_seconds = 0;  // Retry-After (429 only; 0 when allowed)
  uint64_t retry_after_ms = 0;       // JSON body "retry_after_ms" (429 only)
};

RateLimitHeaderValues rate_limit_header_values(const Decision& decision);

// ceil(d / unit) for d >= 0; negative d counts as 0.
uint64_t ceil_div(Nanos d, Nanos unit);

}  // namespace vx::core::ratelimit
