#include "core/lb/endpoint_group.h"

#include <algorithm>

#include "core/lb/round_robin_schedule.h"

namespace vx::core::lb {
namespace {

// Redraws for a second, distinct member in a weighted group. With weights {w, 1} a distinct
// draw takes about w tries; past this the heavy member may face itself, as its weight asks.
constexpr int kDistinctRedraws = 4;

}  // namespace

EndpointGroup::EndpointGroup(std::vector<EndpointState*> members, bool with_schedule)
    : members_(std::move(members)) {
  std::vector<uint32_t> weights;
  weights.reserve(members_.size());
  bool uniform = true;
  for (const EndpointState* e : members_) {
    uniform = uniform && e->weight() == members_.front()->weight();
    weights.push_back(e->weight());
    total_weight_ += e->weight();
    cumulative_.push_back(total_weight_);
  }
  if (uniform) cumulative_.clear();
  if (with_schedule) schedule_ = smooth_round_robin_schedule(weights);
}

size_t EndpointGroup::draw(Random& random) const {
  if (cumulative_.empty()) return random.below(members_.size());
  const uint64_t point = random.below(total_weight_);
  return std::upper_bound(cumulative_.begin(), cumulative_.end(), point) - cumulative_.begin();
}

size_t EndpointGroup::draw_other(Random& random, size_t first) const {
  const size_t n = members_.size();
  if (n < 2) return 0;
  if (cumulative_.empty()) {
    // Uniform: draw among the other n-1 and step over `first`; exact in one draw.
    size_t j = random.below(n - 1);
    if (j >= first) ++j;
    return j;
  }
  size_t other = draw(random);
  for (int i = 0; i < kDistinctRedraws && other == first; ++i) other = draw(random);
  return other;
}

}  // namespace vx::core::lb
