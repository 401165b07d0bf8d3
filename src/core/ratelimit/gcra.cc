// GCRA arithmetic; see gcra.h. Reference: ITU-T I.371 Annex A, "virtual scheduling algorithm";
// the same formulation as redis-cell and Brandur Leach's "Rate limiting, cells, and GCRA".
#include "core/ratelimit/gcra.h"

#include <algorithm>
#include <limits>

namespace vx::core::ratelimit {
namespace {

int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::numeric_limits<int64_t>::max();
  return out;
}

TimePoint saturating_add(TimePoint t, int64_t ns) {
  int64_t out = 0;
  if (__builtin_add_overflow(t.time_since_epoch().count(), ns, &out)) {
    return TimePoint::max();
  }
  return TimePoint(Nanos(out));
}

}  // namespace

GcraParams GcraParams::from_rate(uint64_t rate, Nanos period, uint64_t burst) {
  const int64_t r = static_cast<int64_t>(std::clamp<uint64_t>(rate, 1, kMaxWindowNs));
  const int64_t period_ns = std::clamp<int64_t>(period.count(), 1, kMaxWindowNs);
  const int64_t t = std::max<int64_t>(period_ns / r, 1);
  // (burst + 1) x T <= kMaxWindowNs, so burst <= kMaxWindowNs / T - 1.
  const uint64_t max_burst = static_cast<uint64_t>(kMaxWindowNs / t - 1);
  const uint64_t b = std::min(burst, max_burst);
  GcraParams p;
  p.emission_interval = Nanos(t);
  p.tolerance = Nanos(saturating_mul(static_cast<int64_t>(b), t));
  p.limit = b + 1;
  return p;
}

Decision gcra_decide(Tat tat, TimePoint now, const GcraParams& params) {
  const int64_t t = params.emission_interval.count();
  const int64_t tau = params.tolerance.count();
  // d = max(tat - now, 0), computed without ever subtracting two arbitrary TimePoints: the
  // difference is taken in unsigned arithmetic only when tat > now, then clamped.
  int64_t d = 0;
  if (tat && *tat > now) {
    const uint64_t ahead = static_cast<uint64_t>(tat->time_since_epoch().count()) -
                           static_cast<uint64_t>(now.time_since_epoch().count());
    d = static_cast<int64_t>(std::min<uint64_t>(ahead, static_cast<uint64_t>(tau + t)));
  }
  Decision out;
  out.limit = params.limit;
  if (d > tau) {  // now < tat - tau: the burst is used up
    out.allowed = false;
    out.new_tat = saturating_add(now, d);
    out.remaining = 0;
    out.retry_after = Nanos(d - tau);
    out.reset_after = Nanos(d);
    return out;
  }
  const int64_t new_d = d + t;  // <= tau + T <= kMaxWindowNs
  out.allowed = true;
  out.new_tat = saturating_add(now, new_d);
  out.remaining = static_cast<uint64_t>((tau - d) / t);
  out.retry_after = Nanos(0);
  out.reset_after = Nanos(new_d);
  return out;
}

}  // namespace vx::core::ratelimit
