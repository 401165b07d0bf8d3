#include "core/lb/peak_ewma.h"

#include <algorithm>
#include <cmath>

namespace vx::core::lb {
namespace {

int64_t to_ns(TimePoint t) {
  return std::chrono::duration_cast<Nanos>(t.time_since_epoch()).count();
}

double to_ms(Nanos d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

PeakEwma::PeakEwma(const config::PeakEwmaSettings& settings, TimePoint now)
    // A decay below 1 ns is "no memory": clamp so the division stays finite.
    : inv_decay_ns_(1.0 /
                    std::max<double>(1.0, static_cast<double>(Nanos(settings.decay).count()))),
      default_ms_(to_ms(settings.default_rtt)),
      value_ms_(default_ms_),
      last_ns_(to_ns(now)) {}

double PeakEwma::weight(int64_t elapsed_ns) const {
  const double x = static_cast<double>(elapsed_ns) * inv_decay_ns_;
  // Under load reads and samples come far more often than the decay period (x ~ 1e-4); the
  // series then matches exp() to < 2e-10 and skips its ~20 ns.
  if (x < 1e-3) return 1.0 - x + 0.5 * x * x;
  return std::exp(-x);
}

void PeakEwma::observe(Nanos latency, TimePoint now) {
  const int64_t now_ns = to_ns(now);
  int64_t last = last_ns_.load(std::memory_order_acquire);
  while (now_ns > last &&
         !last_ns_.compare_exchange_weak(last, now_ns, std::memory_order_acq_rel)) {
  }
  const double w = now_ns > last ? weight(now_ns - last) : 1.0;
  const double sample = to_ms(std::max(latency, Nanos::zero()));
  double v = value_ms_.load(std::memory_order_acquire);
  double next;
  do {
    next = sample >= v ? sample : v * w + sample * (1.0 - w);
  } while (!value_ms_.compare_exchange_weak(v, next, std::memory_order_acq_rel));
}

double PeakEwma::value_ms_at(TimePoint now) const {
  // v before t: the writer stores t first, so a v we see comes with its t or a later one.
  const double v = value_ms_.load(std::memory_order_acquire);
  const int64_t last = last_ns_.load(std::memory_order_acquire);
  const int64_t now_ns = to_ns(now);
  if (now_ns <= last) return v;
  return default_ms_ + (v - default_ms_) * weight(now_ns - last);
}

}  // namespace vx::core::lb
