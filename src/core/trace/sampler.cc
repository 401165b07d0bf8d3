#include "core/trace/sampler.h"

#include <cmath>

namespace vx::core::trace {

bool sample_new_trace(const TraceId& id, double ratio) {
  if (!(ratio > 0.0)) return false;
  if (ratio >= 1.0) return true;
  // The trace id's last 8 bytes (random in every id Vortex makes, and in W3C level 2's "random"
  // ids) as a number in [0, 2^64), compared against ratio * 2^64.
  uint64_t low = 0;
  for (size_t i = 8; i < 16; ++i) low = low << 8 | id.bytes[i];
  const double bound = std::ldexp(ratio, 64);
  return static_cast<double>(low) < bound;
}

bool should_sample(const std::optional<TraceParent>& parent, const TraceId& id, double ratio) {
  if (parent) return parent->sampled();
  return sample_new_trace(id, ratio);
}

}  // namespace vx::core::trace
