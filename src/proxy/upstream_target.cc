#include "proxy/upstream_target.h"

#include <algorithm>

namespace vx::proxy {

size_t index_of_endpoint(const ClusterRuntime& cluster, const core::lb::EndpointState& endpoint) {
  const auto endpoints = cluster.balancer->endpoints();
  return static_cast<size_t>(std::find(endpoints.begin(), endpoints.end(), &endpoint) -
                             endpoints.begin());
}

ports::UpstreamTarget upstream_target(const ClusterRuntime& cluster, size_t index) {
  const core::config::Cluster& config = *cluster.config;
  const auto& tls = config.tls;
  return {cluster.endpoint_keys[index],
          cluster.addresses[index],
          config.connect_timeout,
          config.pool.max_idle_per_endpoint,
          config.pool.idle_timeout,
          config.protocol,
          cluster.tls.get(),
          tls && !tls->sni.empty() ? std::string_view(tls->sni)
                                   : std::string_view(config.endpoints[index].address.host)};
}

}  // namespace vx::proxy
