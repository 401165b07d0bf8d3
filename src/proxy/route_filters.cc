#include "proxy/route_filters.h"

#include "proxy/filters/direct_response_filter.h"
#include "proxy/filters/forwarded_headers_filter.h"
#include "proxy/filters/model_sniff_filter.h"
#include "proxy/filters/rate_limit_filter.h"

namespace vx::proxy {

using FilterList = std::vector<std::shared_ptr<const ports::HttpFilter>>;

FilterChain build_pre_route_filters(bool routes_by_model) {
  FilterList filters;
  if (routes_by_model) filters.push_back(std::make_shared<ModelSniffFilter>());
  return FilterChain(std::move(filters), 0);
}

std::vector<FilterChain> build_route_filters(const std::vector<core::config::Route>& routes,
                                             const std::vector<core::ratelimit::Policy>& policies,
                                             const std::vector<int>& route_policies,
                                             const FilterChain& pre_route,
                                             const FilterSources& sources) {
  // Stateless, so one instance serves every route.
  static const auto forwarded = std::make_shared<ForwardedHeadersFilter>();
  std::vector<FilterChain> chains;
  chains.reserve(routes.size());
  for (size_t i = 0; i < routes.size(); ++i) {
    const core::config::Route& route = routes[i];
    FilterList filters;
    // Plugins first (DESIGN.md): one may set what the rate limit keys on (an auth plugin's
    // tenant header).
    for (const std::string& name : route.plugins) {
      if (!sources.plugin) break;
      if (auto plugin = sources.plugin(name)) filters.push_back(std::move(plugin));
    }
    if (route_policies[i] >= 0) {
      const auto index = static_cast<uint32_t>(route_policies[i]);
      filters.push_back(std::make_shared<RateLimitFilter>(policies[index], index));
    }
    if (route.direct_response) {
      filters.push_back(std::make_shared<DirectResponseFilter>(*route.direct_response));
    } else {
      filters.insert(filters.end(), sources.on_cluster_routes.begin(),
                     sources.on_cluster_routes.end());
      filters.push_back(forwarded);
    }
    chains.emplace_back(std::move(filters), pre_route.slot_end());
  }
  return chains;
}

}  // namespace vx::proxy
