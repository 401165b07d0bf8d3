// Runtime: one config snapshot made ready to serve: the config, its compiled route table, and
// per cluster the load balancer and resolved endpoint addresses. Immutable after build() except
// for the balancers' atomics; shared by all workers through std::shared_ptr<const Runtime>.
// A request keeps the Runtime it started with, so a reload never pulls state from under it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/lb/load_balancer.h"
#include "core/ports/clock.h"
#include "core/ports/regex.h"
#include "core/ratelimit/policy.h"
#include "core/result.h"
#include "core/route/route_table.h"
#include "ports/upstream_pool.h"
#include "proxy/filter_chain.h"
#include "proxy/filter_sources.h"

namespace vx::proxy {

struct ClusterRuntime {
  const core::config::Cluster* config = nullptr;  // points into Runtime::config
  std::unique_ptr<core::lb::LoadBalancer> balancer;
  // addresses[i]: endpoint i's resolved addresses, tried in order on connect.
  std::vector<std::vector<boost::asio::ip::tcp::endpoint>> addresses;
  // endpoint_keys[i]: stable id of endpoint i's address text (pool bookkeeping across reloads).
  std::vector<uint64_t> endpoint_keys;
  // The client TLS settings when the cluster has a tls block (h2, or http1 over TLS).
  std::shared_ptr<const ports::UpstreamTlsContext> tls;
};

class Runtime {
 public:
  // Resolves every endpoint name (blocking getaddrinfo: control plane only, never a worker).
  // Refuses with one message per endpoint that does not resolve or a route table error.
  // `previous` (a reload): the running snapshot, whose balancers hand their endpoint state
  // (EWMA, breaker, health, requests in flight) to this one's for endpoints that stay.
  // `tls` compiles each tls block into the cluster's client context (its errors refuse the
  // snapshot); without it a cluster with a tls block is refused. `filters`: what the filter
  // chains take besides the built-in filters (proxy/route_filters.h).
  static core::Result<std::shared_ptr<const Runtime>, std::vector<std::string>> build(
      std::shared_ptr<const core::config::Config> config, const core::RegexCompiler& regex,
      core::TimePoint now, const Runtime* previous = nullptr,
      ports::UpstreamTlsFactory tls = nullptr, const FilterSources& filters = {});

  const core::config::Config& config() const { return *config_; }
  const std::shared_ptr<const core::config::Config>& config_ptr() const { return config_; }
  const core::route::RouteTable& routes() const { return routes_; }
  // The cluster a route names, or nullptr.
  const ClusterRuntime* cluster_for(const core::config::Route& route) const {
    return route_clusters_[routes_.index_of(&route)];
  }
  const std::vector<ClusterRuntime>& clusters() const { return clusters_; }
  // Unique in the process, never reused: tells snapshots apart where an address could repeat.
  uint64_t serial() const { return serial_; }
  // The rate-limit policy a route names, or nullptr.
  const core::ratelimit::Policy* policy_for(size_t route_index) const {
    const int index = route_policies_[route_index];
    return index < 0 ? nullptr : &policies_[static_cast<size_t>(index)];
  }
  const std::vector<core::ratelimit::Policy>& policies() const { return policies_; }
  // Some route matches on ai_model or some cluster routes by model: a request naming no model
  // in x-ai-model has its JSON body's "model" read before routing.
  bool routes_by_model() const { return routes_by_model_; }
  // The filters that run before routing, and those of each route (by route index).
  const FilterChain& pre_route_filters() const { return pre_route_filters_; }
  const FilterChain& route_filters(size_t route_index) const { return route_filters_[route_index]; }

 private:
  Runtime(std::shared_ptr<const core::config::Config> config, core::route::RouteTable routes)
      : config_(std::move(config)), routes_(std::move(routes)) {}

  static uint64_t next_serial();

  std::shared_ptr<const core::config::Config> config_;
  core::route::RouteTable routes_;
  const uint64_t serial_ = next_serial();
  std::vector<ClusterRuntime> clusters_;
  std::vector<const ClusterRuntime*> route_clusters_;  // by route index; null for direct_response
  std::vector<core::ratelimit::Policy> policies_;      // rate_limits.policies, in config order
  std::vector<int> route_policies_;                    // by route index; -1 = no rate limit
  bool routes_by_model_ = false;
  FilterChain pre_route_filters_;
  std::vector<FilterChain> route_filters_;  // by route index
};

}  // namespace vx::proxy
