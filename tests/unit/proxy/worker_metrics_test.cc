#include "proxy/worker_metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "proxy/runtime.h"
#include "support/std_regex_compiler.h"

namespace vx::proxy {
namespace {

using namespace std::chrono_literals;

core::config::Route route(std::string name, std::string prefix, std::string cluster) {
  core::config::Route r;
  r.name = std::move(name);
  r.match.path_prefix = std::move(prefix);
  r.cluster = std::move(cluster);
  return r;
}

core::config::Cluster cluster(std::string name, std::vector<std::string> addresses) {
  core::config::Cluster c;
  c.name = std::move(name);
  for (auto& a : addresses) {
    core::config::Endpoint e;
    e.address.host = "127.0.0.1";
    e.address.port = static_cast<uint16_t>(std::stoi(a.substr(a.find(':') + 1)));
    e.address.text = std::move(a);
    c.endpoints.push_back(std::move(e));
  }
  return c;
}

std::shared_ptr<const Runtime> runtime_of(std::vector<core::config::Route> routes,
                                          std::vector<core::config::Cluster> clusters) {
  auto config = std::make_shared<core::config::Config>();
  config->routes = std::move(routes);
  config->clusters = std::move(clusters);
  testing::StdRegexCompiler regex;
  auto built = Runtime::build(config, regex, core::SteadyClock::now());
  EXPECT_TRUE(built.has_value());
  return *built;
}

RequestRecord record(const Runtime& runtime, uint32_t route, uint16_t status,
                     std::chrono::nanoseconds duration) {
  RequestRecord r;
  r.runtime = &runtime;
  r.route_index = route;
  r.status = status;
  r.duration = duration;
  return r;
}

const RouteSeries* find_route(const WorkerMetrics& metrics, std::string_view name) {
  const RouteSeries* found = nullptr;
  metrics.visit([&](const auto& routes, const auto&, const auto&, const auto&) {
    for (const auto& r : routes) {
      if (r->route == name) found = r.get();
    }
  });
  return found;
}

const UpstreamSeries* find_upstream(const WorkerMetrics& metrics, std::string_view endpoint) {
  const UpstreamSeries* found = nullptr;
  metrics.visit([&](const auto&, const auto& upstreams, const auto&, const auto&) {
    for (const auto& u : upstreams) {
      if (u->endpoint == endpoint) found = u.get();
    }
  });
  return found;
}

TEST(WorkerMetricsTest, CountsStreamsByRouteStatusAndUpstreamEndpoint) {
  auto rt = runtime_of({route("api", "/api", "c"), route("web", "/", "c")},
                       {cluster("c", {"127.0.0.1:9001", "127.0.0.1:9002"})});
  WorkerMetrics metrics;
  metrics.on_log(record(*rt, 1, 200, 1ms));
  auto upstream = record(*rt, 0, 503, 1ms);
  upstream.upstream = "127.0.0.1:9002";
  upstream.cluster_index = 0;
  upstream.endpoint_index = 1;
  metrics.on_log(upstream);
  metrics.on_log(upstream);

  EXPECT_EQ(find_route(metrics, "web")->requests.at(200), 1u);
  EXPECT_EQ(find_route(metrics, "api")->requests.at(503), 2u);
  EXPECT_EQ(find_route(metrics, "api")->requests.at(200), 0u);
  EXPECT_EQ(find_upstream(metrics, "127.0.0.1:9002")->requests.at(503), 2u);
  EXPECT_EQ(find_upstream(metrics, "127.0.0.1:9001")->requests.at(503), 0u);
}

TEST(WorkerMetricsTest, StreamWithoutRouteCountsUnderTheEmptyRoute) {
  auto rt = runtime_of({route("api", "/api", "c")}, {cluster("c", {"127.0.0.1:9001"})});
  WorkerMetrics metrics;
  metrics.on_log(record(*rt, kNoIndex, 404, 1ms));
  EXPECT_EQ(find_route(metrics, "")->requests.at(404), 1u);
}

TEST(WorkerMetricsTest, DurationLandsInTheFirstBucketThatHoldsIt) {
  auto rt = runtime_of({route("api", "/", "c")}, {cluster("c", {"127.0.0.1:9001"})});
  WorkerMetrics metrics;
  metrics.on_log(record(*rt, 0, 200, 500us));  // exactly the first bound: le="0.0005"
  metrics.on_log(record(*rt, 0, 200, 3ms));    // le="0.005"
  metrics.on_log(record(*rt, 0, 200, 60s));    // +Inf
  const RouteSeries* api = find_route(metrics, "api");
  EXPECT_EQ(api->duration_buckets[0].load(), 1u);
  EXPECT_EQ(api->duration_buckets[3].load(), 1u);
  EXPECT_EQ(api->duration_buckets.back().load(), 1u);
  EXPECT_EQ(api->duration_sum_ns.load(), 500'000u + 3'000'000u + 60'000'000'000u);
}

TEST(WorkerMetricsTest, CountersOfANameThatStaysSurviveAReloadThatMovesIt) {
  auto before = runtime_of({route("api", "/api", "c")}, {cluster("c", {"127.0.0.1:9001"})});
  auto after = runtime_of({route("new", "/new", "c"), route("api", "/api", "c")},
                          {cluster("c", {"127.0.0.1:9001"})});
  WorkerMetrics metrics;
  metrics.on_log(record(*before, 0, 200, 1ms));
  metrics.on_log(record(*after, 1, 200, 1ms));
  metrics.on_log(record(*before, 0, 200, 1ms));  // a stream that started before the reload
  EXPECT_EQ(find_route(metrics, "api")->requests.at(200), 3u);
  EXPECT_EQ(find_route(metrics, "new"), nullptr);  // no request yet, no series
}

TEST(WorkerMetricsTest, ARouteGetsItsSeriesAtItsFirstRequestNotBefore) {
  std::vector<core::config::Route> routes;
  for (int i = 0; i < 1000; ++i) {
    routes.push_back(route("r" + std::to_string(i), "/r" + std::to_string(i) + "/", "c"));
  }
  auto rt = runtime_of(std::move(routes), {cluster("c", {"127.0.0.1:9001"})});
  WorkerMetrics metrics;
  metrics.on_log(record(*rt, 999, 200, 1ms));
  metrics.on_log(record(*rt, 999, 503, 1ms));
  size_t series = 0;
  metrics.visit([&](const auto& route_series, const auto&, const auto&, const auto&) {
    series = route_series.size();
  });
  EXPECT_EQ(series, 2u);  // "" (no route) and r999
  EXPECT_EQ(find_route(metrics, "r999")->requests.at(200), 1u);
  EXPECT_EQ(find_route(metrics, "r999")->requests.at(503), 1u);
  EXPECT_EQ(find_route(metrics, "r0"), nullptr);
}

TEST(WorkerMetricsTest, RateLimitDecisionsCountPerPolicyName) {
  auto config = std::make_shared<core::config::Config>();
  config->routes = {route("api", "/", "c")};
  config->clusters = {cluster("c", {"127.0.0.1:9001"})};
  core::config::RateLimitPolicy policy;
  policy.name = "default";
  config->rate_limits.policies.push_back(policy);
  testing::StdRegexCompiler regex;
  auto rt = *Runtime::build(config, regex, core::SteadyClock::now());
  WorkerMetrics metrics;
  metrics.rate_limit(*rt, 0, RateLimitOutcome::Allowed);
  metrics.rate_limit(*rt, 0, RateLimitOutcome::Limited);
  metrics.rate_limit(*rt, 0, RateLimitOutcome::Limited);
  metrics.rate_limit(*rt, 7, RateLimitOutcome::Limited);  // out of range: ignored
  metrics.visit([](const auto&, const auto&, const auto& policies, const auto&) {
    ASSERT_EQ(policies.size(), 1u);
    EXPECT_EQ(policies[0]->policy, "default");
    EXPECT_EQ(policies[0]->allowed.load(), 1u);
    EXPECT_EQ(policies[0]->limited.load(), 2u);
    EXPECT_EQ(policies[0]->error.load(), 0u);
  });
}

TEST(WorkerMetricsTest, StatusesOutsideHttpRangeAreNotCounted) {
  StatusCounters counters;
  counters.add(99);
  counters.add(600);
  counters.add(499);
  uint64_t total = 0;
  for (const auto& c : counters.by_status) total += c.load();
  EXPECT_EQ(total, 1u);
  EXPECT_EQ(counters.at(499), 1u);
}

// The shard's threading contract (make test-tsan checks it): the worker's thread counts and adds
// series as reloads bring new names while the scrape thread walks the tables and sums them.
TEST(WorkerMetricsTest, AScrapeOnAnotherThreadWalksTheTablesWhileReloadsAddSeries) {
  constexpr int kReloads = 40;
  constexpr uint64_t kStreamsPerReload = 50;
  std::vector<std::shared_ptr<const Runtime>> runtimes;
  for (int i = 0; i < kReloads; ++i) {
    const std::string n = std::to_string(i);
    runtimes.push_back(runtime_of({route("r" + n, "/" + n, "c" + n), route("api", "/", "c" + n)},
                                  {cluster("c" + n, {"127.0.0.1:" + std::to_string(9000 + i)})}));
  }
  WorkerMetrics metrics;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    for (const auto& rt : runtimes) {
      for (uint64_t k = 0; k < kStreamsPerReload; ++k) metrics.on_log(record(*rt, 1, 200, 1ms));
      metrics.set_listener_connections("main", rt->serial());
    }
    done.store(true, std::memory_order_release);
  });
  uint64_t seen = 0;
  do {
    uint64_t api = 0;
    metrics.visit(
        [&](const auto& routes, const auto& upstreams, const auto&, const auto& listeners) {
          for (const auto& r : routes) {
            if (r->route == "api") api += r->requests.at(200);
          }
          for (const auto& u : upstreams) EXPECT_FALSE(u->endpoint.empty());
          for (const auto& l : listeners) EXPECT_EQ(l->listener, "main");
        });
    EXPECT_GE(api, seen);  // one writer: a later scrape never sees less
    seen = api;
  } while (!done.load(std::memory_order_acquire));
  worker.join();
  EXPECT_EQ(find_route(metrics, "api")->requests.at(200), kReloads * kStreamsPerReload);
}

}  // namespace
}  // namespace vx::proxy
