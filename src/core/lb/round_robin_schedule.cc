#include "core/lb/round_robin_schedule.h"

#include <algorithm>
#include <numeric>

namespace vx::core::lb {

std::vector<uint32_t> smooth_round_robin_schedule(std::span<const uint32_t> weights) {
  if (weights.empty()) return {};
  std::vector<uint64_t> w(weights.begin(), weights.end());
  for (auto& x : w) x = std::max<uint64_t>(1, x);
  uint64_t g = 0;
  for (auto x : w) g = std::gcd(g, x);
  for (auto& x : w) x /= g;
  uint64_t total = std::accumulate(w.begin(), w.end(), uint64_t{0});
  if (total > kMaxRoundRobinSchedule) {
    for (auto& x : w) x = std::max<uint64_t>(1, x * kMaxRoundRobinSchedule / total);
    total = std::accumulate(w.begin(), w.end(), uint64_t{0});
  }

  std::vector<uint32_t> schedule;
  schedule.reserve(total);
  std::vector<int64_t> current(w.size(), 0);
  for (uint64_t step = 0; step < total; ++step) {
    size_t best = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      current[i] += static_cast<int64_t>(w[i]);
      if (current[i] > current[best]) best = i;
    }
    current[best] -= static_cast<int64_t>(total);
    schedule.push_back(static_cast<uint32_t>(best));
  }
  return schedule;
}

}  // namespace vx::core::lb
