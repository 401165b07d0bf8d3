// GCRA (Generic Cell Rate Algorithm, ITU-T I.371 virtual scheduling) in integer nanoseconds:
// (tat, now, params) -> Decision. Pure functions on value types; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>

#include "core/ports/clock.h"

namespace vx::core::ratelimit {

// The widest window GCRA works with: (burst + 1) x T is capped at 2^52 ns (~52 days) so the
// Redis Lua script, whose numbers are doubles, computes exactly what this file computes.
inline constexpr int64_t kMaxWindowNs = int64_t{1} << 52;

// T = period / rate (floor, at least 1 ns) and tau = burst x T. `limit` = burst + 1: the number
// of requests a full bucket lets through at once. Build with from_rate(), which clamps.
struct GcraParams {
  Nanos emission_interval{1};  // T
  Nanos tolerance{0};          // tau
  uint64_t limit = 1;          // burst + 1 (after clamping)

  // rate > 0 and period > 0 are the caller's job (config validation); 0 is treated as 1.
  // Clamps T and (burst + 1) x T to kMaxWindowNs, lowering burst if it must.
  static GcraParams from_rate(uint64_t rate, Nanos period, uint64_t burst);
};

// Theoretical arrival time of a key's next request; nullopt = never seen (a full bucket).
using Tat = std::optional<TimePoint>;

struct Decision {
  bool allowed = false;
  TimePoint new_tat{};     // what the store keeps for the key (unchanged tat when denied)
  uint64_t limit = 0;      // burst + 1
  uint64_t remaining = 0;  // requests that would still pass right now, after this one
  Nanos retry_after{0};    // until the next request can pass; 0 when allowed
  Nanos reset_after{0};    // until the bucket is full again (new_tat - now)
};

// Exact GCRA. Never fails and never overflows:
// - first request (tat == nullopt) and any gap (tat <= now) start from a full bucket;
// - a tat further ahead than a legitimate one can be (now + tau + T, which only happens when
//   the clock went backwards) is pulled back to it, so a clock step back costs a client at
//   most one emission interval, and no returned interval is ever negative.
// Times add with saturation at TimePoint::max().
Decision gcra_decide(Tat tat, TimePoint now, const GcraParams& params);

}  // namespace vx::core::ratelimit
