// LoadBalancer: one cluster's endpoint states and the policy that picks among them (SPEC.md §2
// `lb`, `model_routing`). Built once per config snapshot; every worker calls pick() at once and
// the health checker, admin and metrics read endpoints(): thread-safe through atomics only.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/lb/active_request.h"
#include "core/lb/endpoint_group.h"
#include "core/lb/endpoint_state.h"
#include "core/ports/clock.h"
#include "core/ports/random.h"

namespace vx::core::lb {

struct PickContext {
  TimePoint now;
  Random& random;                          // the calling worker's own
  std::string_view model = {};             // the request's AI model; read only with model_routing
  const EndpointState* exclude = nullptr;  // a retry: avoided while another endpoint is eligible
};

class LoadBalancer {
 public:
  // REQUIRES: a validated cluster (core/config/validate). Endpoint states start as described at
  // EndpointState's constructor, except on a reload: an endpoint of `previous` with the same
  // address, weight and ai_models in a cluster with the same peak_ewma, circuit_breaker and
  // health_check settings is shared with it (estimate, breaker, health, requests in flight), so
  // a reload neither closes an open breaker nor forgets a slow endpoint. `previous` may be
  // destroyed afterwards; requests it handed out stay valid.
  LoadBalancer(const config::Cluster& cluster, TimePoint now,
               const LoadBalancer* previous = nullptr);

  LoadBalancer(const LoadBalancer&) = delete;
  LoadBalancer& operator=(const LoadBalancer&) = delete;

  // Chooses an endpoint for one request and returns the guard that counts it as active; the
  // caller ends it with finish() (or cancel()). Only eligible endpoints (healthy, breaker
  // admitting) are chosen, and with model_routing only those whose ai_models contain
  // ctx.model (an empty model matches none). std::nullopt = nothing eligible: answer 503 at
  // once, without connecting or waiting. Never blocks; O(1) unless most endpoints of the group
  // are ineligible, then one O(n) scan.
  //   peak_ewma:     power of two choices drawn by weight; lower (ewma + 1) * (active + 1) wins.
  //   least_request: the same with active requests as the score.
  //   round_robin:   nginx's smooth weighted order, shared by all workers; ineligible entries
  //                  are skipped.
  //   random:        weighted random.
  std::optional<ActiveRequest> pick(const PickContext& ctx);

  // Every endpoint of the cluster in config order; addresses stay valid for the balancer's life.
  std::span<EndpointState* const> endpoints() const { return view_; }
  // The endpoint whose address text is `address` ("host:port" as configured), or nullptr.
  EndpointState* find(std::string_view address) const;

  const std::string& cluster_name() const { return cluster_name_; }
  config::LbPolicy policy() const { return policy_; }
  bool model_routing() const { return model_routing_; }

 private:
  EndpointGroup* group_for(std::string_view model) const;
  double load(const EndpointState& endpoint, TimePoint now) const;
  std::optional<ActiveRequest> pick_two(EndpointGroup& group, const PickContext& ctx) const;
  std::optional<ActiveRequest> pick_round_robin(EndpointGroup& group, const PickContext& ctx) const;
  std::optional<ActiveRequest> pick_random(EndpointGroup& group, const PickContext& ctx) const;
  std::optional<ActiveRequest> pick_by_scan(EndpointGroup& group, const PickContext& ctx) const;

  // May an endpoint state built under `previous` serve this cluster's `endpoint` unchanged?
  bool can_adopt(const LoadBalancer& previous, const EndpointState& state,
                 const config::Endpoint& endpoint) const;

  const std::string cluster_name_;
  const config::LbPolicy policy_;
  const bool model_routing_;
  const config::PeakEwmaSettings peak_ewma_;
  const config::CircuitBreakerSettings circuit_breaker_;
  const std::optional<config::HealthCheck> health_check_;
  std::vector<std::shared_ptr<EndpointState>> owned_;  // shared with the next reload's balancer
  std::vector<EndpointState*> view_;
  std::unique_ptr<EndpointGroup> all_;  // without model_routing
  std::map<std::string, std::unique_ptr<EndpointGroup>, std::less<>> by_model_;  // with it
};

}  // namespace vx::core::lb
