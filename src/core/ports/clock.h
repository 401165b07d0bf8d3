// Clock: the only way core/ learns the time. Adapters hand in a steady clock; tests a FakeClock.
#pragma once

#include <chrono>

namespace vx::core {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Nanos = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

}  // namespace vx::core
