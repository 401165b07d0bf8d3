#include "core/breaker/circuit_breaker.h"

#include <algorithm>

namespace vx::core::breaker {

CircuitBreaker::CircuitBreaker(const config::CircuitBreakerSettings& settings)
    : consecutive_failures_(settings.consecutive_failures),
      open_(std::chrono::duration_cast<Nanos>(settings.open)),
      // 0 probes would leave the breaker open for ever; the ticket field holds 16 bits.
      half_open_requests_(std::clamp<uint32_t>(settings.half_open_requests, 1, kTicketMask)) {}

uint64_t CircuitBreaker::opening_word(TimePoint now) {
  const int64_t ns =
      std::max<int64_t>(0, std::chrono::duration_cast<Nanos>(now.time_since_epoch()).count());
  const uint64_t ms_rounded_up = (static_cast<uint64_t>(ns) + 999'999) / 1'000'000;
  return (ms_rounded_up + 1) << kTicketBits;  // +1: stamp 0 would read as closed
}

bool CircuitBreaker::open_period_over(uint64_t word, TimePoint now) const {
  const int64_t opened_ns = static_cast<int64_t>(stamp_of(word) - 1) * 1'000'000;
  return std::chrono::duration_cast<Nanos>(now.time_since_epoch()).count() >=
         opened_ns + open_.count();
}

Admission CircuitBreaker::admit(TimePoint now) {
  uint64_t word = word_.load(std::memory_order_acquire);
  for (;;) {
    if (word == 0) return {.admitted = true};
    if (!open_period_over(word, now) || tickets_of(word) >= half_open_requests_) return {};
    if (word_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel)) {
      return {.admitted = true, .probe_of = stamp_of(word)};
    }
  }
}

bool CircuitBreaker::would_admit(TimePoint now) const {
  const uint64_t word = word_.load(std::memory_order_acquire);
  return word == 0 || (open_period_over(word, now) && tickets_of(word) < half_open_requests_);
}

void CircuitBreaker::on_result(const Admission& admission, bool success, TimePoint now) {
  uint64_t word = word_.load(std::memory_order_acquire);
  for (;;) {
    if (word == 0) {
      if (success) {
        // Load first: a healthy endpoint's results then never write the shared line.
        if (failures_.load(std::memory_order_relaxed) != 0) {
          failures_.store(0, std::memory_order_relaxed);
        }
        return;
      }
      const uint32_t run = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
      if (consecutive_failures_ == 0 || run < consecutive_failures_) return;
      if (word_.compare_exchange_strong(word, opening_word(now), std::memory_order_acq_rel)) {
        failures_.store(0, std::memory_order_relaxed);
      }
      return;  // lost the race: someone else opened it for the same run
    }
    if (!admission.is_probe() || admission.probe_of != stamp_of(word)) return;  // invariant 4
    const uint64_t next = success ? 0 : opening_word(now);
    if (word_.compare_exchange_weak(word, next, std::memory_order_acq_rel)) {
      failures_.store(0, std::memory_order_relaxed);
      return;
    }
  }
}

void CircuitBreaker::cancel(const Admission& admission) {
  if (!admission.is_probe()) return;
  uint64_t word = word_.load(std::memory_order_acquire);
  while (word != 0 && stamp_of(word) == admission.probe_of && tickets_of(word) > 0) {
    if (word_.compare_exchange_weak(word, word - 1, std::memory_order_acq_rel)) return;
  }
}

State CircuitBreaker::state(TimePoint now) const {
  const uint64_t word = word_.load(std::memory_order_acquire);
  if (word == 0) return State::Closed;
  return open_period_over(word, now) ? State::HalfOpen : State::Open;
}

}  // namespace vx::core::breaker
