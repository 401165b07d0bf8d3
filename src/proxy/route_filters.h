// The filter chains of one config snapshot (docs/life-of-a-request.md has the order and why):
// before routing, the AI model; per route, its plugins, its rate limit, then either its
// direct_response or the forwarded headers. Built with the Runtime, on the control thread.
#pragma once

#include <vector>

#include "core/config/config.h"
#include "core/ratelimit/policy.h"
#include "proxy/filter_chain.h"
#include "proxy/filter_sources.h"

namespace vx::proxy {

// The chain that runs before routing; `routes_by_model`: some route or cluster routes by the AI
// model.
FilterChain build_pre_route_filters(bool routes_by_model);

// One chain per route of `routes`, in order. `policies` are the Runtime's built policies and
// `route_policies` each route's index into them (-1: none). Chains' state slots start after
// the pre-route chain's.
std::vector<FilterChain> build_route_filters(const std::vector<core::config::Route>& routes,
                                             const std::vector<core::ratelimit::Policy>& policies,
                                             const std::vector<int>& route_policies,
                                             const FilterChain& pre_route,
                                             const FilterSources& sources);

}  // namespace vx::proxy
