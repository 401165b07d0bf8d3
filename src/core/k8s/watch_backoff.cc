#include "core/k8s/watch_backoff.h"

#include <algorithm>

namespace vx::core::k8s {

std::chrono::milliseconds backoff_delay(unsigned failures, uint64_t random) {
  if (failures == 0) return std::chrono::milliseconds(0);
  const unsigned doublings = std::min(failures - 1, 16u);  // 200 ms << 16 is far past the cap
  const int64_t full = std::min<int64_t>(kBackoffMin.count() << doublings, kBackoffMax.count());
  const int64_t jitter = static_cast<int64_t>(random % static_cast<uint64_t>(full / 2 + 1));
  return std::chrono::milliseconds(full - jitter);
}

}  // namespace vx::core::k8s
