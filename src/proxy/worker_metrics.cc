#include "proxy/worker_metrics.h"

#include "proxy/runtime.h"

namespace vx::proxy {

namespace {

// kDurationBuckets in nanoseconds, so the request path compares integers.
constexpr std::array<uint64_t, kDurationBuckets.size()> bucket_bounds_ns() {
  std::array<uint64_t, kDurationBuckets.size()> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint64_t>(kDurationBuckets[i] * 1e9 + 0.5);
  }
  return out;
}
constexpr auto kBucketBoundsNs = bucket_bounds_ns();

template <typename Series, typename Match>
Series* find_series(const std::vector<std::unique_ptr<Series>>& all, Match match) {
  for (const auto& s : all) {
    if (match(*s)) return s.get();
  }
  return nullptr;
}

}  // namespace

WorkerMetrics::WorkerMetrics() {
  no_route_ = route_series("");
}

RouteSeries* WorkerMetrics::route_series(std::string_view route) {
  if (const auto it = route_by_name_.find(route); it != route_by_name_.end()) return it->second;
  RouteSeries* s = nullptr;
  {
    std::lock_guard lock(mutex_);
    s = routes_.emplace_back(std::make_unique<RouteSeries>(route)).get();
  }
  route_by_name_.emplace(s->route, s);
  return s;
}

UpstreamSeries* WorkerMetrics::upstream_series(std::string_view cluster,
                                               std::string_view endpoint) {
  if (auto* s = find_series(upstreams_, [&](const UpstreamSeries& u) {
        return u.cluster == cluster && u.endpoint == endpoint;
      })) {
    return s;
  }
  std::lock_guard lock(mutex_);
  return upstreams_.emplace_back(std::make_unique<UpstreamSeries>(cluster, endpoint)).get();
}

PolicySeries* WorkerMetrics::policy_series(std::string_view policy) {
  if (auto* s = find_series(policies_, [&](const PolicySeries& p) { return p.policy == policy; })) {
    return s;
  }
  std::lock_guard lock(mutex_);
  return policies_.emplace_back(std::make_unique<PolicySeries>(policy)).get();
}

WorkerMetrics::Slots& WorkerMetrics::slots_for(const Runtime& runtime) {
  const uint64_t serial = runtime.serial();
  for (Slots& s : slots_) {
    if (s.serial == serial) return s;
  }
  // A snapshot this worker has not counted for yet: once per reload per worker.
  Slots& s = slots_[next_victim_];
  next_victim_ = (next_victim_ + 1) % slots_.size();
  s.serial = serial;
  s.routes.assign(runtime.routes().size(), nullptr);
  s.endpoints.clear();
  for (const auto& cluster : runtime.clusters()) {
    auto& endpoints = s.endpoints.emplace_back();
    for (const auto& endpoint : cluster.config->endpoints) {
      endpoints.push_back(upstream_series(cluster.config->name, endpoint.address.text));
    }
  }
  s.policies.clear();
  for (const auto& policy : runtime.config().rate_limits.policies) {
    s.policies.push_back(policy_series(policy.name));
  }
  return s;
}

void WorkerMetrics::on_log(const RequestRecord& record) {
  Slots* slots = record.runtime ? &slots_for(*record.runtime) : nullptr;
  RouteSeries* route = no_route_;
  if (slots && record.route_index < slots->routes.size()) {
    RouteSeries*& slot = slots->routes[record.route_index];
    if (slot == nullptr) {
      slot = route_series(record.runtime->routes().routes()[record.route_index].name);
    }
    route = slot;
  }
  route->requests.add(record.status);
  const uint64_t ns =
      record.duration.count() < 0 ? 0 : static_cast<uint64_t>(record.duration.count());
  size_t bucket = 0;
  while (bucket < kBucketBoundsNs.size() && ns > kBucketBoundsNs[bucket]) ++bucket;
  route->duration_buckets[bucket].add();
  route->duration_sum_ns.add(ns);
  if (!record.listener.empty()) {  // empty only for exchanges outside a listener (tests)
    if (!last_listener_ || last_listener_->listener != record.listener) {
      last_listener_ = listener_series(record.listener);
    }
    last_listener_->requests[static_cast<size_t>(record.protocol)].add();
  }

  if (slots && !record.upstream.empty() && record.cluster_index < slots->endpoints.size()) {
    const auto& endpoints = slots->endpoints[record.cluster_index];
    if (record.endpoint_index < endpoints.size()) {
      endpoints[record.endpoint_index]->requests.add(record.status);
    }
  }
  if (record.runtime && record.rate_limit != RateLimitOutcome::None) {
    rate_limit(*record.runtime, record.policy_index, record.rate_limit);
  }
}

void WorkerMetrics::rate_limit(const Runtime& runtime, uint32_t policy_index,
                               RateLimitOutcome outcome) {
  Slots& slots = slots_for(runtime);
  if (policy_index >= slots.policies.size()) return;
  PolicySeries& p = *slots.policies[policy_index];
  switch (outcome) {
    case RateLimitOutcome::Allowed:
      p.allowed.add();
      break;
    case RateLimitOutcome::Limited:
      p.limited.add();
      break;
    case RateLimitOutcome::Error:
      p.error.add();
      break;
    case RateLimitOutcome::None:
      break;
  }
}

ListenerSeries* WorkerMetrics::listener_series(std::string_view listener) {
  if (auto* s = find_series(listeners_,
                            [&](const ListenerSeries& l) { return l.listener == listener; })) {
    return s;
  }
  std::lock_guard lock(mutex_);
  return listeners_.emplace_back(std::make_unique<ListenerSeries>(listener)).get();
}

void WorkerMetrics::set_listener_connections(std::string_view listener, uint64_t connections) {
  listener_series(listener)->connections.set(connections);
}

}  // namespace vx::proxy
