// EndpointGroup: the endpoints one request may be sent to (a whole cluster, or those serving one
// AI model) with their weights prepared for drawing. Immutable after build except the round-robin
// cursor (an atomic); shared by all workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "core/lb/endpoint_state.h"
#include "core/ports/random.h"

namespace vx::core::lb {

class EndpointGroup {
 public:
  // The states are owned by the balancer and outlive the group. The round-robin schedule is
  // built only when asked for (it can take 256 KiB).
  EndpointGroup(std::vector<EndpointState*> members, bool with_schedule);

  EndpointGroup(const EndpointGroup&) = delete;
  EndpointGroup& operator=(const EndpointGroup&) = delete;

  bool empty() const { return members_.empty(); }
  size_t size() const { return members_.size(); }
  const std::vector<EndpointState*>& members() const { return members_; }

  EndpointState* at(size_t index) const { return members_[index]; }

  // The index of one member, with probability weight / total. REQUIRES: !empty().
  size_t draw(Random& random) const;
  // Another draw, different from `first` when the group has two or more members (a uniform
  // group needs one draw; a weighted one redraws a few times and may return `first` again when
  // its weight dwarfs the rest, which is then the right answer anyway). REQUIRES: !empty().
  size_t draw_other(Random& random, size_t first) const;

  // The smooth weighted round-robin order (indices into members(); empty unless built) and the
  // shared position in it; the cursor only grows, so it is read modulo the schedule's size.
  const std::vector<uint32_t>& schedule() const { return schedule_; }
  uint64_t next_cursor() { return cursor_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::vector<EndpointState*> members_;
  std::vector<uint64_t> cumulative_;  // running weight sums; empty when all weights are equal
  uint64_t total_weight_ = 0;
  std::vector<uint32_t> schedule_;
  alignas(64) std::atomic<uint64_t> cursor_{0};  // written by every round-robin pick
};

}  // namespace vx::core::lb
