// deadline_now(): the time to compute timeouts from (header, idle, route, body stalls).
// It reads CLOCK_MONOTONIC_COARSE, the time at the kernel's last tick (at most a few ms old):
// a precise steady_clock read goes through the VM's paravirtual clock and cost ~1.5 % of a
// proxied request's CPU at ten reads a request (perf, vdso), while a timeout that fires a tick
// early is harmless. Latency figures (balancer, access log) keep the precise clock.
// Same clock as std::chrono::steady_clock (CLOCK_MONOTONIC on Linux), only coarser, so the
// result goes into steady timers and compares with steady_clock::now().
#pragma once

#include <time.h>

#include <chrono>

namespace vx::ports {

inline std::chrono::steady_clock::time_point deadline_now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

}  // namespace vx::ports
