// See policy.h.
#include "core/ratelimit/policy.h"

namespace vx::core::ratelimit {

Result<Policy, std::string> Policy::from_config(const config::RateLimitPolicy& p) {
  auto key = RateLimitKey::parse(p.key);
  if (!key) return unexpected("rate limit policy '" + p.name + "': " + key.error());
  Policy out;
  out.name = p.name;
  out.key = std::move(key.value());
  // Millis -> Nanos would overflow past ~292 years; anything past kMaxWindowNs is clamped anyway.
  const Nanos period =
      p.period.count() > kMaxWindowNs / 1'000'000 ? Nanos(kMaxWindowNs) : Nanos(p.period);
  out.gcra = GcraParams::from_rate(p.rate, period, p.burst);
  return out;
}

}  // namespace vx::core::ratelimit
