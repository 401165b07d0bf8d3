// FakeClock: a core::Clock that only moves when a test calls advance(). Not thread-safe; one per
// test.
#pragma once

#include <chrono>

#include "core/ports/clock.h"

namespace vx::test {

class FakeClock final : public core::Clock {
 public:
  // Starts an hour past the steady clock's epoch so code that subtracts durations from now()
  // never sees a time point before the epoch.
  explicit FakeClock(core::TimePoint start = core::TimePoint{} + std::chrono::hours(1))
      : now_(start) {}

  // core::Clock
  core::TimePoint now() const override { return now_; }

  // REQUIRES: d >= 0 (a steady clock never goes back).
  void advance(core::Nanos d) { now_ += d; }

 private:
  core::TimePoint now_;
};

}  // namespace vx::test
