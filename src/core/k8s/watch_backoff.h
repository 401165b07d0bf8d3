// How long the Kubernetes watcher waits before it lists or watches again after a failure:
// exponential from 200 ms, doubling to at most 10 s, with up to 50 % of it taken off at random
// so replicas that lost the API server together do not come back in step. Pure.
#pragma once

#include <chrono>
#include <cstdint>

namespace vx::core::k8s {

inline constexpr std::chrono::milliseconds kBackoffMin{200};
inline constexpr std::chrono::milliseconds kBackoffMax{10000};

// `failures`: failures in a row, 1 for the first. `random`: any value (a uniform random number).
// Returns a delay in [d/2, d] with d = min(kBackoffMin * 2^(failures-1), kBackoffMax); 0 for
// failures == 0.
std::chrono::milliseconds backoff_delay(unsigned failures, uint64_t random);

}  // namespace vx::core::k8s
