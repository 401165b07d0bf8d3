// See rate_limit_headers.h.
#include "core/ratelimit/rate_limit_headers.h"

namespace vx::core::ratelimit {

uint64_t ceil_div(Nanos d, Nanos unit) {
  if (d.count() <= 0) return 0;
  const auto n = static_cast<uint64_t>(d.count());
  const auto u = static_cast<uint64_t>(unit.count());
  return n / u + (n % u != 0 ? 1 : 0);
}

RateLimitHeaderValues rate_limit_header_values(const Decision& decision) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  RateLimitHeaderValues v;
  v.limit = decision.limit;
  v.remaining = decision.remaining;
  v.reset_seconds = ceil_div(decision.reset_after, seconds(1));
  if (!decision.allowed) {
    v.retry_after_seconds = ceil_div(decision.retry_after, seconds(1));
    v.retry_after_ms = ceil_div(decision.retry_after, milliseconds(1));
  }
  return v;
}

}  // namespace vx::core::ratelimit
