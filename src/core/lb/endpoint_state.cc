#include "core/lb/endpoint_state.h"

#include <algorithm>

namespace vx::core::lb {

EndpointState::EndpointState(const config::Endpoint& endpoint, const config::Cluster& cluster,
                             TimePoint now)
    : latency_(cluster.peak_ewma, now),
      breaker_(cluster.circuit_breaker),
      weight_(std::max<uint32_t>(1, endpoint.weight)),
      unhealthy_after_(std::max<uint32_t>(
          1, cluster.health_check.value_or(config::HealthCheck{}).unhealthy_after)),
      healthy_after_(std::max<uint32_t>(
          1, cluster.health_check.value_or(config::HealthCheck{}).healthy_after)),
      endpoint_(endpoint) {}

bool EndpointState::serves_model(std::string_view model) const {
  return std::find(endpoint_.ai_models.begin(), endpoint_.ai_models.end(), model) !=
         endpoint_.ai_models.end();
}

double EndpointState::score(TimePoint now) const {
  return peak_ewma_score(latency_.value_ms_at(now), active());
}

bool EndpointState::on_health_check(bool ok) {
  if (ok) {
    check_failures_.store(0, std::memory_order_relaxed);
    const uint32_t run = check_successes_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (run >= healthy_after_ && !healthy_.exchange(true, std::memory_order_relaxed)) return true;
  } else {
    check_successes_.store(0, std::memory_order_relaxed);
    const uint32_t run = check_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (run >= unhealthy_after_ && healthy_.exchange(false, std::memory_order_relaxed)) return true;
  }
  return false;
}

}  // namespace vx::core::lb
