// PeakEwma: one endpoint's response-latency estimate, decayed by time, not by sample count.
// Lock-free: shared by every worker through two atomics; any thread may call any method.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/config/config.h"
#include "core/ports/clock.h"

namespace vx::core::lb {

// The P2C score of SPEC.md's peak_ewma policy; lower is better. The +1s keep an idle endpoint's
// latency and a fast endpoint's load in play: with ewma 0 the score is still the load, and with
// no request in flight it is still the latency.
inline double peak_ewma_score(double ewma_ms, uint32_t active) {
  return (ewma_ms + 1.0) * (static_cast<double>(active) + 1.0);
}

// State: an estimate v (ms) and the time t of the last sample.
// 1. Peak: a sample s >= v replaces v at once, so one slow answer makes the endpoint look slow
//    immediately. The estimate right after a sample is never below that sample.
// 2. Decay by time: a sample s < v blends as v*w + s*(1-w), w = exp(-(now - t)/decay). The
//    weights telescope: after T of samples v's share is exp(-T/decay) whether 1 or 1,000
//    samples a second came in (a count-based EWMA would forget 1,000 times faster under load).
// 3. Reads do not write. value_ms_at(now) projects v toward default_rtt by the same weight, so
//    a penalised endpoint that then gets no traffic looks like a new one again with time and is
//    probed, instead of being starved for ever.
// 4. Each instant between samples is claimed by exactly one update (CAS on t), and v changes by
//    CAS from the value the blend was computed on, so a racing peak is never overwritten.
//    Under a race a reader may pair a new t with the previous v; that reads high (safe side).
class PeakEwma {
 public:
  PeakEwma(const config::PeakEwmaSettings& settings, TimePoint now);

  PeakEwma(const PeakEwma&) = delete;
  PeakEwma& operator=(const PeakEwma&) = delete;

  // Records one response latency observed at `now`. A sample stamped before the latest update
  // (another worker got there first) blends with weight 0: only a peak can still raise v.
  void observe(Nanos latency, TimePoint now);

  // The estimate in milliseconds as seen at `now` (invariant 3).
  double value_ms_at(TimePoint now) const;

  double default_rtt_ms() const { return default_ms_; }

 private:
  // exp(-elapsed/decay) for elapsed_ns >= 0.
  double weight(int64_t elapsed_ns) const;

  const double inv_decay_ns_;
  const double default_ms_;
  std::atomic<double> value_ms_;
  std::atomic<int64_t> last_ns_;  // steady-clock nanoseconds of the last update
};

}  // namespace vx::core::lb
