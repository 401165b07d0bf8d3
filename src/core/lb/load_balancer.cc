#include "core/lb/load_balancer.h"

#include <algorithm>
#include <utility>

namespace vx::core::lb {
namespace {

// Random draws before falling back to a scan. When both candidates of a draw are ineligible,
// most of the group probably is; three rounds keep a mostly healthy group O(1) and send a mostly
// sick one to the scan quickly.
constexpr int kDrawRounds = 3;
// Round-robin entries looked at before the scan; bounds a pick when a heavy endpoint is out.
constexpr size_t kMaxScheduleSkips = 32;

bool usable(const EndpointState* e, const PickContext& ctx, bool allow_excluded) {
  return (allow_excluded || e != ctx.exclude) && e->eligible(ctx.now);
}

// The breaker decides last: would_admit() may have said yes and another worker since taken the
// last half-open ticket.
std::optional<ActiveRequest> admit(EndpointState* e, TimePoint now) {
  const breaker::Admission admission = e->breaker().admit(now);
  if (!admission) return std::nullopt;
  return std::optional<ActiveRequest>(std::in_place, *e, admission, now);
}

}  // namespace

LoadBalancer::LoadBalancer(const config::Cluster& cluster, TimePoint now,
                           const LoadBalancer* previous)
    : cluster_name_(cluster.name),
      policy_(cluster.lb),
      model_routing_(cluster.model_routing),
      peak_ewma_(cluster.peak_ewma),
      circuit_breaker_(cluster.circuit_breaker),
      health_check_(cluster.health_check) {
  for (const config::Endpoint& endpoint : cluster.endpoints) {
    std::shared_ptr<EndpointState> state;
    if (previous != nullptr) {
      for (const auto& old : previous->owned_) {
        if (old->address() == endpoint.address.text && can_adopt(*previous, *old, endpoint)) {
          state = old;
          break;
        }
      }
    }
    if (!state) state = std::make_shared<EndpointState>(endpoint, cluster, now);
    owned_.push_back(std::move(state));
    view_.push_back(owned_.back().get());
  }
  const bool with_schedule = policy_ == config::LbPolicy::RoundRobin;
  if (!model_routing_) {
    all_ = std::make_unique<EndpointGroup>(view_, with_schedule);
    return;
  }
  std::map<std::string, std::vector<EndpointState*>, std::less<>> members;
  for (EndpointState* e : view_) {
    for (const std::string& model : e->ai_models()) {
      auto& list = members[model];
      if (list.empty() || list.back() != e) list.push_back(e);  // a model listed twice
    }
  }
  for (auto& [model, list] : members) {
    by_model_.emplace(model, std::make_unique<EndpointGroup>(std::move(list), with_schedule));
  }
}

bool LoadBalancer::can_adopt(const LoadBalancer& previous, const EndpointState& state,
                             const config::Endpoint& endpoint) const {
  const auto same_checks = [](const std::optional<config::HealthCheck>& a,
                              const std::optional<config::HealthCheck>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->unhealthy_after == b->unhealthy_after && a->healthy_after == b->healthy_after);
  };
  return state.weight() == std::max<uint32_t>(1, endpoint.weight) &&
         state.ai_models() == endpoint.ai_models && previous.peak_ewma_.decay == peak_ewma_.decay &&
         previous.peak_ewma_.default_rtt == peak_ewma_.default_rtt &&
         previous.circuit_breaker_.consecutive_failures == circuit_breaker_.consecutive_failures &&
         previous.circuit_breaker_.open == circuit_breaker_.open &&
         previous.circuit_breaker_.half_open_requests == circuit_breaker_.half_open_requests &&
         same_checks(previous.health_check_, health_check_);
}

EndpointState* LoadBalancer::find(std::string_view address) const {
  for (EndpointState* e : view_) {
    if (e->address() == address) return e;
  }
  return nullptr;
}

EndpointGroup* LoadBalancer::group_for(std::string_view model) const {
  if (!model_routing_) return all_.get();
  const auto it = by_model_.find(model);
  return it == by_model_.end() ? nullptr : it->second.get();
}

double LoadBalancer::load(const EndpointState& endpoint, TimePoint now) const {
  return policy_ == config::LbPolicy::LeastRequest ? endpoint.active() : endpoint.score(now);
}

std::optional<ActiveRequest> LoadBalancer::pick(const PickContext& ctx) {
  EndpointGroup* group = group_for(ctx.model);
  if (group == nullptr || group->empty()) return std::nullopt;
  std::optional<ActiveRequest> picked;
  switch (policy_) {
    case config::LbPolicy::PeakEwma:
    case config::LbPolicy::LeastRequest:
      picked = pick_two(*group, ctx);
      break;
    case config::LbPolicy::RoundRobin:
      picked = pick_round_robin(*group, ctx);
      break;
    case config::LbPolicy::Random:
      picked = pick_random(*group, ctx);
      break;
  }
  if (picked) return picked;
  return pick_by_scan(*group, ctx);
}

std::optional<ActiveRequest> LoadBalancer::pick_two(EndpointGroup& group,
                                                    const PickContext& ctx) const {
  for (int round = 0; round < kDrawRounds; ++round) {
    const size_t i = group.draw(ctx.random);
    const size_t j = group.draw_other(ctx.random, i);
    EndpointState* a = group.at(i);
    EndpointState* b = group.at(j);
    const bool a_ok = usable(a, ctx, false);
    const bool b_ok = j != i && usable(b, ctx, false);
    if (!a_ok && !b_ok) continue;
    if (!a_ok) std::swap(a, b);
    // A tie goes to the first draw, so equal scores split traffic by weight.
    if (a_ok && b_ok && load(*b, ctx.now) < load(*a, ctx.now)) std::swap(a, b);
    if (auto picked = admit(a, ctx.now)) return picked;
    if (a_ok && b_ok) {
      if (auto picked = admit(b, ctx.now)) return picked;
    }
  }
  return std::nullopt;
}

std::optional<ActiveRequest> LoadBalancer::pick_round_robin(EndpointGroup& group,
                                                            const PickContext& ctx) const {
  const std::vector<uint32_t>& schedule = group.schedule();
  const uint64_t start = group.next_cursor();
  const size_t steps = std::min(schedule.size(), kMaxScheduleSkips);
  for (size_t step = 0; step < steps; ++step) {
    EndpointState* e = group.at(schedule[(start + step) % schedule.size()]);
    if (!usable(e, ctx, false)) continue;
    if (auto picked = admit(e, ctx.now)) return picked;
  }
  return std::nullopt;
}

std::optional<ActiveRequest> LoadBalancer::pick_random(EndpointGroup& group,
                                                       const PickContext& ctx) const {
  for (int round = 0; round < kDrawRounds; ++round) {
    EndpointState* e = group.at(group.draw(ctx.random));
    if (!usable(e, ctx, false)) continue;
    if (auto picked = admit(e, ctx.now)) return picked;
  }
  return std::nullopt;
}

// The slow path: the draws found nothing usable. One pass of weighted reservoir sampling picks
// one (or, for the two-choice policies, two independent) usable members with probability
// weight / usable weight, so the policy's shape holds even when most of the group is out. The
// excluded endpoint is allowed in a second pass only if nothing else is usable.
std::optional<ActiveRequest> LoadBalancer::pick_by_scan(EndpointGroup& group,
                                                        const PickContext& ctx) const {
  const bool two =
      policy_ == config::LbPolicy::PeakEwma || policy_ == config::LbPolicy::LeastRequest;
  for (const bool allow_excluded : {false, true}) {
    if (allow_excluded && ctx.exclude == nullptr) break;
    EndpointState* a = nullptr;
    EndpointState* b = nullptr;
    uint64_t total = 0;
    for (EndpointState* e : group.members()) {
      if (!usable(e, ctx, allow_excluded)) continue;
      total += e->weight();
      if (ctx.random.below(total) < e->weight()) a = e;
      if (two && ctx.random.below(total) < e->weight()) b = e;
    }
    if (a == nullptr) continue;
    if (b != nullptr && b != a && load(*b, ctx.now) < load(*a, ctx.now)) std::swap(a, b);
    if (auto picked = admit(a, ctx.now)) return picked;
    if (b != nullptr && b != a) {
      if (auto picked = admit(b, ctx.now)) return picked;
    }
  }
  return std::nullopt;
}

}  // namespace vx::core::lb
