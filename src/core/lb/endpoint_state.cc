#include "core/lb/endpoint_state.h"

#include <algorithm>

namespace vx::core::lb {

EndpointState::EndpointState(const config::Endpoint& endpoint, const config::Cluster& cluster,
                             TimePoint now)
    : latency_(cluster.peak_ewma, now),
      breaker_(cluster.circuit_breaker),
      born_(now),
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
  const uint32_t in_flight = active();
  const double estimate = latency_.value_ms_at(now);
  if (in_flight == 0) return peak_ewma_score(estimate, 0);
  return peak_ewma_score(std::max(estimate, pending_age_ms(now)), in_flight);
}

double EndpointState::pending_age_ms(TimePoint now) const {
  const int64_t sum_before = pending_start_sum_ns_.load(std::memory_order_acquire);
  const uint32_t waiting = pending_.load(std::memory_order_acquire);
  const int64_t sum = pending_start_sum_ns_.load(std::memory_order_acquire);
  // An end between the two sum reads may have left `waiting` counting a request the sum no
  // longer holds: that would read as a huge age. Skip the signal for this read instead.
  if (waiting == 0 || sum != sum_before) return 0.0;
  const double mean_start_ns = static_cast<double>(sum) / waiting;
  const double age_ns = static_cast<double>(since_born_ns(now)) - mean_start_ns;
  return age_ns > 0 ? age_ns / 1e6 : 0.0;
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
