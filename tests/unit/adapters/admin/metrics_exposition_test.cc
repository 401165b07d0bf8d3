#include "adapters/admin/metrics_exposition.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "support/std_regex_compiler.h"

namespace vx::adapters::admin {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const proxy::Runtime> one_route_runtime() {
  auto config = std::make_shared<core::config::Config>();
  core::config::Route route;
  route.name = "r";
  route.match.path_prefix = "/";
  route.cluster = "c";
  config->routes.push_back(route);
  core::config::Cluster cluster;
  cluster.name = "c";
  core::config::Endpoint endpoint;
  endpoint.address = {"127.0.0.1", 9001, "127.0.0.1:9001"};
  cluster.endpoints.push_back(endpoint);
  config->clusters.push_back(cluster);
  testing::StdRegexCompiler regex;
  return *proxy::Runtime::build(config, regex, core::SteadyClock::now());
}

proxy::RequestRecord upstream_record(const proxy::Runtime& rt, std::chrono::nanoseconds d) {
  proxy::RequestRecord r;
  r.runtime = &rt;
  r.route_index = 0;
  r.cluster_index = 0;
  r.endpoint_index = 0;
  r.upstream = "127.0.0.1:9001";
  r.status = 200;
  r.duration = d;
  return r;
}

TEST(MetricsExpositionTest, SumsShardsAndWritesCumulativeBuckets) {
  auto rt = one_route_runtime();
  proxy::WorkerMetrics a, b;
  auto on = [&](proxy::RequestRecord r, proxy::DownstreamProtocol protocol) {
    r.listener = "main";
    r.protocol = protocol;
    return r;
  };
  a.on_log(on(upstream_record(*rt, 200us), proxy::DownstreamProtocol::Http3));
  b.on_log(on(upstream_record(*rt, 2ms), proxy::DownstreamProtocol::Http3));
  b.set_listener_connections("main", 3);
  a.set_listener_connections("main", 1);
  std::vector<const proxy::WorkerMetrics*> shards{&a, &b};
  ProcessMetrics process;
  process.version = "1.2.3";
  process.reloads_failure = 4;
  const std::string text = render_metrics(shards, rt.get(), process, core::SteadyClock::now());

  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("vortex_build_info{version=\"1.2.3\"} 1"));
  EXPECT_TRUE(has("vortex_downstream_connections_active{listener=\"main\"} 4"));
  EXPECT_TRUE(has("vortex_downstream_requests_total{listener=\"main\",protocol=\"h3\"} 2"));
  EXPECT_TRUE(has("vortex_downstream_requests_total{listener=\"main\",protocol=\"http1\"} 0"));
  EXPECT_TRUE(has("vortex_http_requests_total{route=\"r\",code=\"200\"} 2"));
  EXPECT_TRUE(has("vortex_http_request_duration_seconds_bucket{route=\"r\",le=\"0.0005\"} 1"));
  EXPECT_TRUE(has("vortex_http_request_duration_seconds_bucket{route=\"r\",le=\"0.001\"} 1"));
  EXPECT_TRUE(has("vortex_http_request_duration_seconds_bucket{route=\"r\",le=\"0.0025\"} 2"));
  EXPECT_TRUE(has("vortex_http_request_duration_seconds_bucket{route=\"r\",le=\"+Inf\"} 2"));
  EXPECT_TRUE(has("vortex_http_request_duration_seconds_count{route=\"r\"} 2"));
  EXPECT_TRUE(has(
      "vortex_upstream_requests_total{cluster=\"c\",endpoint=\"127.0.0.1:9001\",code=\"200\"} 2"));
  EXPECT_TRUE(has("vortex_circuit_breaker_state{cluster=\"c\",endpoint=\"127.0.0.1:9001\"} 0"));
  EXPECT_TRUE(has("vortex_endpoint_healthy{cluster=\"c\",endpoint=\"127.0.0.1:9001\"} 1"));
  EXPECT_TRUE(has("vortex_config_reloads_total{result=\"failure\"} 4"));
  EXPECT_TRUE(has("# TYPE vortex_wasm_calls_total counter"));
  // No traffic on a status, no series: only codes that happened are written.
  EXPECT_EQ(text.find("code=\"404\""), std::string::npos);
}

TEST(MetricsExpositionTest, WithoutARuntimeTheEndpointGaugesAreEmpty) {
  std::vector<const proxy::WorkerMetrics*> none;
  const std::string text = render_metrics(none, nullptr, {}, core::SteadyClock::now());
  EXPECT_NE(text.find("# TYPE vortex_upstream_ewma_seconds gauge"), std::string::npos);
  EXPECT_EQ(text.find("vortex_upstream_ewma_seconds{"), std::string::npos);
}

TEST(MetricsExpositionTest, ContainedFailuresHaveASeriesForEveryTaskKind) {
  std::vector<const proxy::WorkerMetrics*> none;
  ProcessMetrics process;
  process.contained_failures[static_cast<size_t>(ports::TaskKind::Stream)] = 3;
  const std::string text = render_metrics(none, nullptr, process, core::SteadyClock::now());

  EXPECT_NE(text.find("# TYPE vortex_contained_failures_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("vortex_contained_failures_total{task=\"stream\"} 3\n"), std::string::npos);
  // Zeros too: a series exists before the first failure.
  EXPECT_NE(text.find("vortex_contained_failures_total{task=\"connection\"} 0\n"),
            std::string::npos);
  size_t series = 0;
  for (size_t at = text.find("vortex_contained_failures_total{"); at != std::string::npos;
       at = text.find("vortex_contained_failures_total{", at + 1)) {
    ++series;
  }
  EXPECT_EQ(series, ports::kTaskKindCount);
}

}  // namespace
}  // namespace vx::adapters::admin
