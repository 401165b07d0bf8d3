// ConnectionBudget: the process-wide count of open downstream connections against
// limits.max_connections (SPEC.md §2). Shared by every worker's listeners; `open` is atomic,
// `max` is set once before the workers start.
#pragma once

#include <atomic>
#include <cstdint>

namespace vx::adapters::net {

struct ConnectionBudget {
  std::atomic<uint64_t> open{0};
  uint64_t max = 100000;
};

}  // namespace vx::adapters::net
