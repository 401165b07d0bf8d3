#include "proxy/runtime.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/route_filters.h"

namespace vx::proxy {

namespace {

// FNV-1a: a stable key for an endpoint's address text, the same in every snapshot.
uint64_t address_key(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

uint64_t Runtime::next_serial() {
  static std::atomic<uint64_t> serial{0};
  return serial.fetch_add(1, std::memory_order_relaxed) + 1;
}

core::Result<std::shared_ptr<const Runtime>, std::vector<std::string>> Runtime::build(
    std::shared_ptr<const core::config::Config> config, const core::RegexCompiler& regex,
    core::TimePoint now, const Runtime* previous, ports::UpstreamTlsFactory tls,
    const FilterSources& filters) {
  std::vector<std::string> errors;
  auto routes = core::route::RouteTable::build(config, regex);
  if (!routes) return core::unexpected(std::vector<std::string>{routes.error()});

  std::shared_ptr<Runtime> runtime(new Runtime(config, std::move(*routes)));
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  runtime->clusters_.reserve(config->clusters.size());
  for (const auto& cluster : config->clusters) {
    ClusterRuntime& cr = runtime->clusters_.emplace_back();
    cr.config = &cluster;
    const core::lb::LoadBalancer* previous_balancer = nullptr;
    for (size_t i = 0; previous && i < previous->clusters_.size(); ++i) {
      const ClusterRuntime& pc = previous->clusters_[i];
      if (pc.config->name == cluster.name) previous_balancer = pc.balancer.get();
    }
    cr.balancer = std::make_unique<core::lb::LoadBalancer>(cluster, now, previous_balancer);
    if (cluster.tls) {
      auto context =
          tls ? tls(cluster)
              : core::Result<std::shared_ptr<const ports::UpstreamTlsContext>, std::string>(
                    core::unexpected(std::string("upstream TLS is not available in this build")));
      if (context) {
        cr.tls = std::move(*context);
      } else {
        errors.push_back(config->file + ":" + std::to_string(cluster.where.of("tls")) +
                         ": cluster '" + cluster.name + "': " + context.error());
      }
    }
    for (const auto& endpoint : cluster.endpoints) {
      boost::system::error_code ec;
      auto results = resolver.resolve(endpoint.address.host, std::to_string(endpoint.address.port),
                                      boost::asio::ip::tcp::resolver::numeric_service, ec);
      auto& addrs = cr.addresses.emplace_back();
      if (ec) {
        errors.push_back(config->file + ":" + std::to_string(endpoint.where.line) +
                         ": cannot resolve endpoint '" + endpoint.address.text +
                         "': " + ec.message());
        continue;
      }
      for (const auto& r : results) addrs.push_back(r.endpoint());
      cr.endpoint_keys.push_back(address_key(endpoint.address.text));
    }
  }
  if (!errors.empty()) return core::unexpected(std::move(errors));

  for (const auto& route : runtime->routes_.routes()) {
    const ClusterRuntime* found = nullptr;
    if (route.cluster) {
      for (const auto& cr : runtime->clusters_) {
        if (cr.config->name == *route.cluster) found = &cr;
      }
    }
    runtime->route_clusters_.push_back(found);
  }

  for (const auto& policy : config->rate_limits.policies) {
    auto built = core::ratelimit::Policy::from_config(policy);
    if (!built) return core::unexpected(std::vector<std::string>{built.error()});
    runtime->policies_.push_back(std::move(*built));
  }
  for (const auto& route : runtime->routes_.routes()) {
    int index = -1;
    for (size_t i = 0; route.rate_limit && i < runtime->policies_.size(); ++i) {
      if (runtime->policies_[i].name == *route.rate_limit) index = static_cast<int>(i);
    }
    runtime->route_policies_.push_back(index);
  }
  for (const auto& route : runtime->routes_.routes()) {
    if (route.match.ai_model) runtime->routes_by_model_ = true;
  }
  for (const auto& cluster : config->clusters) {
    if (cluster.model_routing) runtime->routes_by_model_ = true;
  }
  runtime->pre_route_filters_ = build_pre_route_filters(runtime->routes_by_model_);
  runtime->route_filters_ =
      build_route_filters(runtime->routes_.routes(), runtime->policies_, runtime->route_policies_,
                          runtime->pre_route_filters_, filters);
  return std::shared_ptr<const Runtime>(std::move(runtime));
}

}  // namespace vx::proxy
