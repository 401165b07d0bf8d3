// WorkerMetrics: one worker's shard of the Prometheus counters (SPEC.md §6). The worker's thread
// is the only writer and bumps plain counters (a relaxed load and store: no locked instruction,
// no lock, no allocation once a series exists); the scrape thread sums every shard with relaxed
// loads. The mutex guards only the series tables' shape (a series added after a reload vs. a
// scrape walking them); the request path takes it only on a new route, endpoint or policy name.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/request_logger.h"

namespace vx::proxy {

// One writer, any number of readers.
class ShardCounter {
 public:
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(uint64_t v) { value_.store(v, std::memory_order_relaxed); }
  uint64_t load() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Upper bounds (seconds) of vortex_http_request_duration_seconds: 0.5 ms (a direct response or
// a loopback origin) to 10 s (slow uploads), about 2.5x apart so p99 of a proxy hop is resolved.
inline constexpr std::array<double, 14> kDurationBuckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

// Counts by HTTP status 100..599 (4 KiB); other values are not counted.
struct StatusCounters {
  static constexpr uint16_t kFirst = 100;
  static constexpr uint16_t kLast = 599;
  std::array<ShardCounter, kLast - kFirst + 1> by_status;

  void add(uint16_t status) {
    if (status >= kFirst && status <= kLast) by_status[status - kFirst].add();
  }
  uint64_t at(uint16_t status) const { return by_status[status - kFirst].load(); }
};

struct RouteSeries {
  explicit RouteSeries(std::string_view n) : route(n) {}
  const std::string route;  // "" = no route matched
  StatusCounters requests;
  std::array<ShardCounter, kDurationBuckets.size() + 1>
      duration_buckets;  // not cumulative; last = +Inf
  ShardCounter duration_sum_ns;
};

struct UpstreamSeries {
  UpstreamSeries(std::string_view c, std::string_view e) : cluster(c), endpoint(e) {}
  const std::string cluster;
  const std::string endpoint;  // "host:port" as configured
  StatusCounters requests;
};

struct PolicySeries {
  explicit PolicySeries(std::string_view p) : policy(p) {}
  const std::string policy;
  ShardCounter allowed;
  ShardCounter limited;
  ShardCounter error;
};

struct ListenerSeries {
  explicit ListenerSeries(std::string_view n) : listener(n) {}
  const std::string listener;
  ShardCounter connections;                                 // a gauge: the worker sets it
  std::array<ShardCounter, kDownstreamProtocols> requests;  // by DownstreamProtocol
};

class WorkerMetrics final : public RequestLogger {
 public:
  WorkerMetrics();

  // RequestLogger (the worker's thread): counts the stream by route and status, its duration,
  // by listener and protocol, the upstream's status by endpoint when one answered, and the
  // rate-limit decision.
  void on_log(const RequestRecord& record) override;

  // The worker's thread: one rate-limit decision of `runtime`'s policy `policy_index`.
  void rate_limit(const Runtime& runtime, uint32_t policy_index, RateLimitOutcome outcome);

  // The worker's thread: live downstream connections of the listener named `listener`.
  void set_listener_connections(std::string_view listener, uint64_t connections);

  // Any thread: calls visit(routes, upstreams, policies, listeners) with the shard's tables
  // held still. Values inside keep moving (read them with load()).
  template <typename Visit>
  void visit(Visit&& visit) const {
    std::lock_guard lock(mutex_);
    visit(routes_, upstreams_, policies_, listeners_);
  }

 private:
  // Series pointers by the positions of one Runtime (RequestRecord's indices), resolved by name
  // on first use so counters live on across reloads for names that stay.
  struct Slots {
    uint64_t serial = 0;  // Runtime::serial(); 0 = empty
    // nullptr until the route's first request: a series is ~4.3 KiB, and a table of 10 000
    // routes of which few are busy would otherwise cost 43 MB per worker.
    std::vector<RouteSeries*> routes;
    std::vector<std::vector<UpstreamSeries*>> endpoints;  // [cluster][endpoint]
    std::vector<PolicySeries*> policies;
  };

  Slots& slots_for(const Runtime& runtime);
  RouteSeries* route_series(std::string_view route);
  UpstreamSeries* upstream_series(std::string_view cluster, std::string_view endpoint);
  PolicySeries* policy_series(std::string_view policy);
  ListenerSeries* listener_series(std::string_view listener);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<RouteSeries>> routes_;
  // routes_ by name (keys view the series' own names). The worker's thread only.
  std::unordered_map<std::string_view, RouteSeries*> route_by_name_;
  std::vector<std::unique_ptr<UpstreamSeries>> upstreams_;
  std::vector<std::unique_ptr<PolicySeries>> policies_;
  std::vector<std::unique_ptr<ListenerSeries>> listeners_;
  RouteSeries* no_route_ = nullptr;
  ListenerSeries* last_listener_ = nullptr;  // most requests come in on the listener before
  // The current and the previous snapshot: streams that started before a reload finish on
  // the old one, and must not make the cache flip back and forth.
  std::array<Slots, 2> slots_;
  size_t next_victim_ = 0;
};

}  // namespace vx::proxy
