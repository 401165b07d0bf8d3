// Smooth weighted round robin, precomputed: the order nginx's algorithm visits endpoints in, so
// workers share it through one atomic cursor instead of a locked running state. Pure function.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vx::core::lb {

// Longest schedule built; larger weight sums are scaled down (each weight stays >= 1), which
// keeps the ratios to within 1/65536 of the total and the memory to 256 KiB per group.
inline constexpr uint64_t kMaxRoundRobinSchedule = uint64_t{1} << 16;

// One period of nginx's smooth weighted round robin (ngx_http_upstream_get_peer: every step each
// entry gains its weight, the largest current wins and loses the total) over `weights`, as
// indices into `weights`. Weights are first divided by their gcd, so {5,1,1} gives
// 0 0 1 0 2 0 0, and {10,2,2} the same. Empty input gives an empty schedule; zero weights count
// as 1.
std::vector<uint32_t> smooth_round_robin_schedule(std::span<const uint32_t> weights);

}  // namespace vx::core::lb
