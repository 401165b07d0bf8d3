// CircuitBreaker: one endpoint's closed / open / half-open state machine, fed (outcome, now).
// Lock-free: shared by every worker through two atomics; any thread may call any method.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/config/config.h"
#include "core/ports/clock.h"

namespace vx::core::breaker {

// Numeric values are the metric's (vortex_..._circuit_state): 0 closed, 1 open, 2 half-open.
enum class State : uint8_t { Closed = 0, Open = 1, HalfOpen = 2 };

// What admit() handed out. A probe must end in on_result() or cancel(): an unresolved probe
// keeps its ticket, and once every ticket is held the breaker admits nothing until re-opened.
struct Admission {
  bool admitted = false;
  uint64_t probe_of = 0;  // nonzero: a half-open probe ticket of the opening with this stamp

  explicit operator bool() const { return admitted; }
  bool is_probe() const { return probe_of != 0; }
};

// Invariants:
// 1. Closed admits everything. Failures in a row are counted; a success resets the count; the
//    failure that brings it to consecutive_failures opens the breaker. consecutive_failures 0
//    disables the breaker (it never opens).
// 2. Open lasts open_ms from the opening instant (rounded up to the next millisecond, so it is
//    never shorter). It admits nothing, and results arriving then are ignored: they belong to
//    requests sent before the opening and say nothing new.
// 3. HalfOpen is derived from time alone (open_ms passed), so no timer or event is needed. Each
//    opening hands out at most half_open_requests probe tickets (at least 1).
// 4. Only the result of a probe of the current opening decides a half-open breaker: success
//    closes it (count reset), failure re-opens it at `now` with fresh tickets. Other results are
//    ignored while open or half-open; a late probe result after closing counts like any other.
// 5. The opening stamp and the ticket count share one atomic word, so every transition is one
//    CAS and a re-open resets the tickets in the same step. A racer that loses re-reads and
//    decides again: one failure run gives one opening.
class CircuitBreaker {
 public:
  explicit CircuitBreaker(const config::CircuitBreakerSettings& settings);

  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // May a request be sent now? In half-open this takes a probe ticket (see Admission).
  Admission admit(TimePoint now);

  // admit() without taking a ticket: for filtering candidates before one is chosen.
  bool would_admit(TimePoint now) const;

  // The outcome of an admitted request. success = a response head below 500; failure = connect
  // error, reset, timeout or 5xx.
  void on_result(const Admission& admission, bool success, TimePoint now);

  // An admitted request that will report no outcome (e.g. the client went away): hands a probe
  // ticket back if its opening is still current; a no-op for non-probes.
  void cancel(const Admission& admission);

  State state(TimePoint now) const;

 private:
  static constexpr int kTicketBits = 16;
  static constexpr uint64_t kTicketMask = (uint64_t{1} << kTicketBits) - 1;

  static uint64_t stamp_of(uint64_t word) { return word >> kTicketBits; }
  static uint64_t tickets_of(uint64_t word) { return word & kTicketMask; }
  static uint64_t opening_word(TimePoint now);
  bool open_period_over(uint64_t word, TimePoint now) const;

  const uint32_t consecutive_failures_;
  const Nanos open_;
  const uint32_t half_open_requests_;
  // 0 = closed; else (stamp << 16) | tickets taken, stamp = opening millisecond + 1.
  std::atomic<uint64_t> word_{0};
  std::atomic<uint32_t> failures_{0};  // failures in a row while closed
};

}  // namespace vx::core::breaker
