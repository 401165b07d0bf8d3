#include "adapters/config/yaml_config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vx::adapters::config {
namespace {

namespace cfg = core::config;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

// Every key of SPEC.md §2, none at its default.
constexpr std::string_view kFullConfig = R"(workers: 3
cpu_pinning: true
drain_timeout_ms: 2500
listeners:
  - name: public
    address: "0.0.0.0:8080"
  - name: secure
    address: "[::]:8443"
    tls:
      certificates:
        - { cert: certs/cert.pem, key: /etc/vx/key.pem, server_names: ["*"] }
        - cert: b.pem
          key: b.key
          server_names: ["*.example.com", api.example.org]
      alpn: [http/1.1]
    http3: true
limits:
  max_header_bytes: 32768
  max_headers: 50
  max_uri_bytes: 4096
  max_body_bytes: 1048576
  header_timeout_ms: 5000
  idle_timeout_ms: 30000
  max_connections: 5000
routes:
  - name: api
    match:
      host: "*.example.com"
      path_prefix: "/v1/"
      methods: [GET, post]
      headers: { X-Tenant: a, x-env: prod }
      ai_model: "gpt-4"
    cluster: api
    timeout_ms: 1500
    retries: { attempts: 2, on: [reset] }
    rate_limit: default
    plugins: [auth, audit]
  - name: hello
    match: { path_exact: "/hello" }
    direct_response: { status: 201, body: "hello\n", content_type: "text/html" }
  - match: { path_regex: "^/u/[0-9]+$" }
    direct_response: {}
clusters:
  - name: api
    protocol: h2
    tls: { sni: api.internal, verify: false, ca: ca.pem }
    lb: least_request
    peak_ewma: { decay_ms: 5000, default_rtt_ms: 3 }
    model_routing: true
    endpoints:
      - { address: "127.0.0.1:9001", weight: 3, ai_models: ["gpt-4", "gpt-4o"] }
      - address: "backend.svc:9002"
    connect_timeout_ms: 250
    pool: { max_idle_per_endpoint: 16, idle_timeout_ms: 9000 }
    circuit_breaker: { consecutive_failures: 7, open_ms: 1000, half_open_requests: 2 }
    health_check: { path: /ready, interval_ms: 1000, timeout_ms: 200, unhealthy_after: 4, healthy_after: 1 }
  - name: plain
    protocol: h2
    endpoints: [ { address: "[::1]:9003" } ]
rate_limits:
  store: redis
  redis: { url: "redis://10.0.0.5:6380/1", timeout_ms: 20, pool_size: 8, on_error: deny }
  policies:
    - name: default
      key: header:x-api-key
      rate: 50
      period_ms: 2000
      burst: 5
bans:
  after_violations: 10
  window_ms: 20000
  ttl_ms: 120000
  sweep_interval_ms: 1000
  xdp: { interface: eth0, mode: generic }
wasm:
  runtime: wabt
  plugins:
    - name: auth
      file: plugins/auth.wasm
      abi: execute
      config: "k=v"
      fail_open: true
      max_call_ms: 20
    - { name: audit, file: /abs/audit.wasm }
admin:   { socket: /run/vx.sock }
metrics: { address: "127.0.0.1:9191" }
tracing: { otlp_endpoint: "http://127.0.0.1:4318/v1/traces", sample_ratio: 0.25, service_name: edge, queue_size: 128 }
kubernetes: { enabled: true, namespace: prod, kubeconfig: kube/config }
access_log: { path: /var/log/vx.log, format: json }
)";

std::shared_ptr<const cfg::Config> load_ok(std::string_view yaml,
                                           std::string file = "/etc/vx/vortex.yaml") {
  LoadResult r = load_config_string(yaml, std::move(file));
  if (!r) {
    for (const auto& d : r.error()) ADD_FAILURE() << d.to_string();
    return nullptr;
  }
  return r.value();
}

std::vector<std::string> load_errors(std::string_view yaml) {
  LoadResult r = load_config_string(yaml, "vx.yaml");
  std::vector<std::string> out;
  if (r) return out;
  for (const auto& d : r.error()) out.push_back(d.to_string());
  return out;
}

constexpr std::string_view kMinimal = "listeners: [ { address: \"127.0.0.1:8080\" } ]\n";

TEST(YamlConfigLoaderTest, LoadsEveryKeyOfTheSpec) {
  auto c = load_ok(kFullConfig);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->file, "/etc/vx/vortex.yaml");
  EXPECT_EQ(c->workers, 3u);
  EXPECT_TRUE(c->cpu_pinning);
  EXPECT_EQ(c->drain_timeout, 2500ms);

  ASSERT_EQ(c->listeners.size(), 2u);
  EXPECT_EQ(c->listeners[0].name, "public");
  EXPECT_EQ(c->listeners[0].address.host, "0.0.0.0");
  EXPECT_EQ(c->listeners[0].address.port, 8080);
  EXPECT_FALSE(c->listeners[0].tls.has_value());
  const cfg::Listener& secure = c->listeners[1];
  EXPECT_EQ(secure.address.host, "::");
  EXPECT_TRUE(secure.http3);
  ASSERT_TRUE(secure.tls.has_value());
  ASSERT_EQ(secure.tls->certificates.size(), 2u);
  EXPECT_EQ(secure.tls->certificates[0].cert, "/etc/vx/certs/cert.pem");
  EXPECT_EQ(secure.tls->certificates[0].key, "/etc/vx/key.pem");
  EXPECT_EQ(secure.tls->certificates[0].server_names, std::vector<std::string>{"*"});
  EXPECT_EQ(secure.tls->certificates[1].where.line, 12);
  EXPECT_EQ(secure.tls->certificates[1].server_names,
            (std::vector<std::string>{"*.example.com", "api.example.org"}));
  EXPECT_EQ(secure.tls->alpn, std::vector<std::string>{"http/1.1"});

  EXPECT_EQ(c->limits.max_header_bytes, 32768u);
  EXPECT_EQ(c->limits.max_headers, 50u);
  EXPECT_EQ(c->limits.max_uri_bytes, 4096u);
  EXPECT_EQ(c->limits.max_body_bytes, 1048576u);
  EXPECT_EQ(c->limits.header_timeout, 5000ms);
  EXPECT_EQ(c->limits.idle_timeout, 30000ms);
  EXPECT_EQ(c->limits.max_connections, 5000u);

  ASSERT_EQ(c->routes.size(), 3u);
  const cfg::Route& api = c->routes[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.where.line, 26);
  EXPECT_EQ(api.match.host, "*.example.com");
  EXPECT_EQ(api.match.path_prefix, "/v1/");
  EXPECT_EQ(api.match.methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(api.match.headers, (std::vector<std::pair<std::string, std::string>>{
                                   {"x-tenant", "a"}, {"x-env", "prod"}}));
  EXPECT_EQ(api.match.ai_model, "gpt-4");
  EXPECT_EQ(api.cluster, "api");
  EXPECT_EQ(api.timeout, 1500ms);
  ASSERT_TRUE(api.retries.has_value());
  EXPECT_EQ(api.retries->attempts, 2u);
  EXPECT_EQ(api.retries->on, std::vector<cfg::RetryOn>{cfg::RetryOn::Reset});
  EXPECT_EQ(api.rate_limit, "default");
  EXPECT_EQ(api.plugins, (std::vector<std::string>{"auth", "audit"}));
  EXPECT_EQ(api.where.of("match.ai_model"), 32);
  const cfg::Route& hello = c->routes[1];
  EXPECT_EQ(hello.match.path_exact, "/hello");
  ASSERT_TRUE(hello.direct_response.has_value());
  EXPECT_EQ(hello.direct_response->status, 201);
  EXPECT_EQ(hello.direct_response->body, "hello\n");
  EXPECT_EQ(hello.direct_response->content_type, "text/html");
  EXPECT_EQ(c->routes[2].name, "route_2");
  EXPECT_EQ(c->routes[2].match.path_regex, "^/u/[0-9]+$");
  EXPECT_EQ(c->routes[2].direct_response->status, 200);

  ASSERT_EQ(c->clusters.size(), 2u);
  const cfg::Cluster& cl = c->clusters[0];
  EXPECT_EQ(cl.protocol, cfg::UpstreamProtocol::H2);
  ASSERT_TRUE(cl.tls.has_value());
  EXPECT_EQ(cl.tls->sni, "api.internal");
  EXPECT_FALSE(cl.tls->verify);
  EXPECT_EQ(cl.tls->ca, "/etc/vx/ca.pem");
  EXPECT_EQ(cl.lb, cfg::LbPolicy::LeastRequest);
  EXPECT_EQ(cl.peak_ewma.decay, 5000ms);
  EXPECT_EQ(cl.peak_ewma.default_rtt, 3ms);
  EXPECT_TRUE(cl.model_routing);
  ASSERT_EQ(cl.endpoints.size(), 2u);
  EXPECT_EQ(cl.endpoints[0].weight, 3u);
  EXPECT_EQ(cl.endpoints[0].ai_models, (std::vector<std::string>{"gpt-4", "gpt-4o"}));
  EXPECT_EQ(cl.endpoints[1].address.host, "backend.svc");
  EXPECT_EQ(cl.endpoints[1].address.port, 9002);
  EXPECT_EQ(cl.endpoints[1].weight, 1u);
  EXPECT_EQ(cl.connect_timeout, 250ms);
  EXPECT_EQ(cl.pool.max_idle_per_endpoint, 16u);
  EXPECT_EQ(cl.pool.idle_timeout, 9000ms);
  EXPECT_EQ(cl.circuit_breaker.consecutive_failures, 7u);
  EXPECT_EQ(cl.circuit_breaker.open, 1000ms);
  EXPECT_EQ(cl.circuit_breaker.half_open_requests, 2u);
  ASSERT_TRUE(cl.health_check.has_value());
  EXPECT_EQ(cl.health_check->path, "/ready");
  EXPECT_EQ(cl.health_check->interval, 1000ms);
  EXPECT_EQ(cl.health_check->timeout, 200ms);
  EXPECT_EQ(cl.health_check->unhealthy_after, 4u);
  EXPECT_EQ(cl.health_check->healthy_after, 1u);
  // protocol h2 without a tls block still means TLS, verified.
  ASSERT_TRUE(c->clusters[1].tls.has_value());
  EXPECT_TRUE(c->clusters[1].tls->verify);
  EXPECT_EQ(c->clusters[1].endpoints[0].address.host, "::1");

  const cfg::RateLimits& rl = c->rate_limits;
  EXPECT_EQ(rl.store, cfg::RateLimitStoreKind::Redis);
  EXPECT_EQ(rl.redis.url, "redis://10.0.0.5:6380/1");
  EXPECT_EQ(rl.redis.timeout, 20ms);
  EXPECT_EQ(rl.redis.pool_size, 8u);
  EXPECT_EQ(rl.redis.on_error, cfg::OnError::Deny);
  ASSERT_EQ(rl.policies.size(), 1u);
  EXPECT_EQ(rl.policies[0].key, "header:x-api-key");
  EXPECT_EQ(rl.policies[0].rate, 50u);
  EXPECT_EQ(rl.policies[0].period, 2000ms);
  EXPECT_EQ(rl.policies[0].burst, 5u);

  EXPECT_EQ(c->bans.after_violations, 10u);
  EXPECT_EQ(c->bans.window, 20000ms);
  EXPECT_EQ(c->bans.ttl, 120000ms);
  EXPECT_EQ(c->bans.sweep_interval, 1000ms);
  EXPECT_EQ(c->bans.xdp_interface, "eth0");
  EXPECT_EQ(c->bans.xdp_mode, cfg::XdpMode::Generic);

  EXPECT_EQ(c->wasm.runtime, "wabt");
  ASSERT_EQ(c->wasm.plugins.size(), 2u);
  EXPECT_EQ(c->wasm.plugins[0].file, "/etc/vx/plugins/auth.wasm");
  EXPECT_EQ(c->wasm.plugins[0].abi, cfg::WasmAbi::Execute);
  EXPECT_EQ(c->wasm.plugins[0].config, "k=v");
  EXPECT_TRUE(c->wasm.plugins[0].fail_open);
  EXPECT_EQ(c->wasm.plugins[0].max_call, 20ms);
  EXPECT_EQ(c->wasm.plugins[1].file, "/abs/audit.wasm");
  EXPECT_EQ(c->wasm.plugins[1].abi, cfg::WasmAbi::ProxyWasm);

  EXPECT_EQ(c->admin.socket, "/run/vx.sock");
  EXPECT_EQ(c->metrics.address, "127.0.0.1:9191");
  EXPECT_EQ(c->tracing.otlp_endpoint, "http://127.0.0.1:4318/v1/traces");
  EXPECT_DOUBLE_EQ(c->tracing.sample_ratio, 0.25);
  EXPECT_EQ(c->tracing.service_name, "edge");
  EXPECT_EQ(c->tracing.queue_size, 128u);
  EXPECT_TRUE(c->kubernetes.enabled);
  EXPECT_EQ(c->kubernetes.namespace_, "prod");
  EXPECT_EQ(c->kubernetes.kubeconfig, "/etc/vx/kube/config");
  EXPECT_EQ(c->access_log.path, "/var/log/vx.log");
  EXPECT_EQ(c->access_log.format, "json");
  EXPECT_EQ(c->where.of("limits.max_headers"), 19);
}

TEST(YamlConfigLoaderTest, AppliesTheSpecDefaults) {
  auto c = load_ok(std::string(kMinimal) +
                   "routes: [ { match: {}, cluster: c } ]\n"
                   "clusters: [ { name: c, endpoints: [ { address: \"h:1\" } ] } ]\n");
  ASSERT_NE(c, nullptr);
  cfg::Config d;  // the model's defaults are SPEC.md §2's
  EXPECT_EQ(c->workers, 0u);
  EXPECT_FALSE(c->cpu_pinning);
  EXPECT_EQ(c->drain_timeout, 10000ms);
  EXPECT_EQ(c->listeners[0].name, "127.0.0.1:8080");
  EXPECT_FALSE(c->listeners[0].http3);
  EXPECT_EQ(c->limits.max_header_bytes, 65536u);
  EXPECT_EQ(c->limits.max_headers, 100u);
  EXPECT_EQ(c->limits.max_uri_bytes, 8192u);
  EXPECT_EQ(c->limits.max_body_bytes, 0u);
  EXPECT_EQ(c->limits.header_timeout, 10000ms);
  EXPECT_EQ(c->limits.idle_timeout, 60000ms);
  EXPECT_EQ(c->limits.max_connections, 100000u);
  const cfg::Route& r = c->routes[0];
  EXPECT_EQ(r.name, "route_0");
  EXPECT_EQ(r.timeout, 15000ms);
  EXPECT_FALSE(r.retries.has_value());
  EXPECT_FALSE(r.match.host.has_value());
  EXPECT_TRUE(r.match.methods.empty());
  const cfg::Cluster& cl = c->clusters[0];
  EXPECT_EQ(cl.protocol, cfg::UpstreamProtocol::Http1);
  EXPECT_FALSE(cl.tls.has_value());
  EXPECT_EQ(cl.lb, cfg::LbPolicy::PeakEwma);
  EXPECT_EQ(cl.peak_ewma.decay, 10000ms);
  EXPECT_EQ(cl.peak_ewma.default_rtt, 1ms);
  EXPECT_EQ(cl.endpoints[0].weight, 1u);
  EXPECT_EQ(cl.connect_timeout, 1000ms);
  EXPECT_EQ(cl.pool.max_idle_per_endpoint, 128u);
  EXPECT_EQ(cl.pool.idle_timeout, 30000ms);
  EXPECT_EQ(cl.circuit_breaker.consecutive_failures, 5u);
  EXPECT_EQ(cl.circuit_breaker.open, 5000ms);
  EXPECT_EQ(cl.circuit_breaker.half_open_requests, 1u);
  EXPECT_FALSE(cl.health_check.has_value());
  EXPECT_EQ(c->rate_limits.store, cfg::RateLimitStoreKind::Local);
  EXPECT_EQ(c->rate_limits.redis.url, "redis://127.0.0.1:6379");
  EXPECT_EQ(c->rate_limits.redis.timeout, 50ms);
  EXPECT_EQ(c->rate_limits.redis.pool_size, 4u);
  EXPECT_EQ(c->rate_limits.redis.on_error, cfg::OnError::Allow);
  EXPECT_EQ(c->bans.after_violations, 0u);
  EXPECT_EQ(c->bans.window, 10000ms);
  EXPECT_EQ(c->bans.ttl, 60000ms);
  EXPECT_EQ(c->bans.sweep_interval, 5000ms);
  EXPECT_EQ(c->bans.xdp_mode, cfg::XdpMode::Auto);
  EXPECT_EQ(c->wasm.runtime, "v8");
  EXPECT_EQ(c->admin.socket, "/tmp/vortex_admin.sock");
  EXPECT_EQ(c->metrics.address, "127.0.0.1:9091");
  EXPECT_EQ(c->tracing.sample_ratio, 0.0);
  EXPECT_EQ(c->tracing.service_name, "vortex");
  EXPECT_EQ(c->tracing.queue_size, 4096u);
  EXPECT_FALSE(c->kubernetes.enabled);
  EXPECT_EQ(c->kubernetes.namespace_, "default");
  EXPECT_EQ(c->access_log.path, "stdout");
  EXPECT_EQ(c->access_log.format, "json");
}

TEST(YamlConfigLoaderTest, PluginAndRetryDefaults) {
  auto c = load_ok(std::string(kMinimal) +
                   "routes: [ { direct_response: { status: 204 }, retries: {}, plugins: [p] } ]\n"
                   "wasm: { plugins: [ { name: p, file: p.wasm } ] }\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->routes[0].retries->attempts, 1u);
  EXPECT_EQ(c->routes[0].retries->on,
            (std::vector<cfg::RetryOn>{cfg::RetryOn::ConnectFailure, cfg::RetryOn::Reset}));
  EXPECT_EQ(c->routes[0].direct_response->content_type, "text/plain");
  const cfg::WasmPlugin& p = c->wasm.plugins[0];
  EXPECT_EQ(p.abi, cfg::WasmAbi::ProxyWasm);
  EXPECT_FALSE(p.fail_open);
  EXPECT_EQ(p.max_call, 50ms);
  EXPECT_EQ(p.config, "");
}

TEST(YamlConfigLoaderTest, AcceptsTheBenchHarnessFlowStyle) {
  // What /work/shared/bench/vortex_extra.sh writes.
  auto c = load_ok(R"(workers: 1
listeners:
  - { name: bench, address: "127.0.0.1:18080", tls: { certificates: [ { cert: "/tmp/c.pem", key: "/tmp/k.pem" } ] } }
routes: [ { name: all, match: { path_prefix: "/" }, cluster: origins } ]
clusters:
  - name: origins
    lb: round_robin
    pool: { max_idle_per_endpoint: 256 }
    endpoints:
      - { address: "127.0.0.1:9001" }
      - { address: "127.0.0.1:9002" }
access_log: { path: "off" }
)");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->workers, 1u);
  EXPECT_EQ(c->listeners[0].tls->certificates[0].cert, "/tmp/c.pem");
  EXPECT_TRUE(c->listeners[0].tls->certificates[0].server_names.empty());
  EXPECT_EQ(c->routes[0].match.path_prefix, "/");
  EXPECT_EQ(c->clusters[0].lb, cfg::LbPolicy::RoundRobin);
  EXPECT_EQ(c->clusters[0].pool.max_idle_per_endpoint, 256u);
  EXPECT_EQ(c->clusters[0].endpoints.size(), 2u);
  EXPECT_EQ(c->access_log.path, "off");
}

TEST(YamlConfigLoaderTest, WorkersAutoMeansZeroAndZeroIsRefused) {
  auto c = load_ok(std::string(kMinimal) + "workers: auto\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->workers, 0u);
  EXPECT_THAT(load_errors(std::string(kMinimal) + "workers: 0\n"),
              ElementsAre("vx.yaml:2: workers must be at least 1 (or auto)"));
  EXPECT_THAT(load_errors(std::string(kMinimal) + "workers: many\n"),
              ElementsAre("vx.yaml:2: expected an integer for workers, got 'many'"));
}

TEST(YamlConfigLoaderTest, ReportsUnknownKeysWithTheirPath) {
  EXPECT_THAT(load_errors(std::string(kMinimal) + "routes:\n"
                                                  "  - match:\n"
                                                  "      foo: 1\n"
                                                  "    direct_response: {}\n"
                                                  "colour: blue\n"),
              ElementsAre("vx.yaml:4: unknown key 'foo' in routes[0].match",
                          "vx.yaml:6: unknown key 'colour'"));
}

TEST(YamlConfigLoaderTest, ReportsMissingRequiredKeys) {
  EXPECT_THAT(load_errors("listeners:\n"
                          "  - name: a\n"
                          "clusters:\n"
                          "  - endpoints: [ {} ]\n"),
              ElementsAre("vx.yaml:2: missing required key 'address' in listeners[0]",
                          "vx.yaml:4: missing required key 'name' in clusters[0]",
                          "vx.yaml:4: missing required key 'address' in clusters[0].endpoints[0]"));
}

TEST(YamlConfigLoaderTest, RequiresListeners) {
  EXPECT_THAT(load_errors("workers: 2\n"),
              ElementsAre("vx.yaml:1: at least one listener is required"));
  EXPECT_THAT(load_errors(""), ElementsAre("vx.yaml:1: the configuration is empty (at least one "
                                           "listener is required)"));
  EXPECT_THAT(load_errors("- a\n"), ElementsAre("vx.yaml:1: expected a mapping at the top level"));
}

TEST(YamlConfigLoaderTest, ReportsWrongTypes) {
  EXPECT_THAT(
      load_errors(std::string(kMinimal) +
                  "drain_timeout_ms: soon\n"
                  "cpu_pinning: maybe\n"
                  "limits: { max_headers: -1, max_body_bytes: 99999999999999999999 }\n"
                  "tracing: { sample_ratio: half }\n"
                  "routes: [ { match: { methods: GET }, direct_response: {} } ]\n"
                  "admin: { socket: [a] }\n"),
      ElementsAre("vx.yaml:2: expected an integer for drain_timeout_ms, got 'soon'",
                  "vx.yaml:3: expected true or false for cpu_pinning",
                  "vx.yaml:4: expected a non-negative integer for limits.max_headers, got '-1'",
                  "vx.yaml:4: limits.max_body_bytes is out of range (at most "
                  "9223372036854775807)",
                  "vx.yaml:5: expected a number for tracing.sample_ratio",
                  "vx.yaml:6: expected a list of strings for routes[0].match.methods",
                  "vx.yaml:7: expected a string for admin.socket"));
}

TEST(YamlConfigLoaderTest, ReportsBadAddresses) {
  EXPECT_THAT(load_errors("listeners:\n"
                          "  - address: x\n"
                          "  - address: \"localhost:80\"\n"
                          "  - address: \"0.0.0.0:70000\"\n"
                          "clusters:\n"
                          "  - name: c\n"
                          "    endpoints: [ { address: \"bad host:1\" } ]\n"),
              ElementsAre("vx.yaml:2: bad address 'x': expected host:port",
                          "vx.yaml:3: bad address 'localhost:80': expected host:port with an IP "
                          "address host (e.g. 0.0.0.0 or [::])",
                          "vx.yaml:4: bad address '0.0.0.0:70000': port must be 1..65535",
                          "vx.yaml:7: bad address 'bad host:1': expected host:port"));
}

TEST(YamlConfigLoaderTest, ReportsBadEnumValues) {
  EXPECT_THAT(
      load_errors(std::string(kMinimal) +
                  "clusters: [ { name: c, lb: fastest, protocol: h3, endpoints: [ { address: "
                  "\"h:1\" } ] } ]\n"
                  "rate_limits: { store: memcached, redis: { on_error: retry } }\n"
                  "routes: [ { cluster: c, retries: { on: [timeout] } } ]\n"),
      ElementsAre("vx.yaml:2: bad value 'h3' for clusters[0].protocol: expected one of "
                  "http1, h2c, h2",
                  "vx.yaml:2: bad value 'fastest' for clusters[0].lb: expected one of "
                  "peak_ewma, round_robin, least_request, random",
                  "vx.yaml:3: bad value 'memcached' for rate_limits.store: expected one of "
                  "local, redis",
                  "vx.yaml:3: bad value 'retry' for rate_limits.redis.on_error: expected "
                  "one of allow, deny",
                  "vx.yaml:4: bad value 'timeout' for routes[0].retries.on: expected one of "
                  "connect_failure, reset"));
}

TEST(YamlConfigLoaderTest, ReportsDuplicateKeys) {
  EXPECT_THAT(load_errors(std::string(kMinimal) + "workers: 1\nworkers: 2\n"),
              ElementsAre("vx.yaml:3: duplicate key 'workers'"));
}

TEST(YamlConfigLoaderTest, ReportsSyntaxErrorsWithTheirLine) {
  auto errors = load_errors(std::string(kMinimal) + "routes: [ { name: a\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("vx.yaml:"));
  EXPECT_THAT(errors[0], ::testing::Not(::testing::StartsWith("vx.yaml:0")));
  auto tabs = load_errors("listeners:\n  - address: \"127.0.0.1:1\"\n   bad: [\n");
  ASSERT_EQ(tabs.size(), 1u);
  EXPECT_THAT(tabs[0], ::testing::StartsWith("vx.yaml:3: "));
}

TEST(YamlConfigLoaderTest, RunsSemanticValidationAndPointsAtTheKey) {
  EXPECT_THAT(load_errors(std::string(kMinimal) + "routes:\n"
                                                  "  - name: r\n"
                                                  "    match:\n"
                                                  "      path_regex: \"/u/(\"\n"
                                                  "    cluster: nowhere\n"
                                                  "    rate_limit: strict\n"),
              ElementsAre("vx.yaml:5: route 'r': bad path_regex '/u/(': missing ): /u/(",
                          "vx.yaml:6: route 'r': unknown cluster 'nowhere'",
                          "vx.yaml:7: route 'r': unknown rate limit policy 'strict'"));
}

TEST(YamlConfigLoaderTest, CollectsSchemaAndSemanticErrorsTogetherInLineOrder) {
  auto errors = load_errors(
      "tracing: { sample_ratio: 3 }\n"
      "listeners:\n"
      "  - { address: \"0.0.0.0:1\", colour: red }\n"
      "clusters:\n"
      "  - name: c\n"
      "    endpoints: [ { address: \"h:1\", weight: 0 } ]\n"
      "  - name: c\n"
      "    endpoints: [ { address: \"h:2\" } ]\n");
  EXPECT_THAT(errors, ElementsAre("vx.yaml:1: tracing.sample_ratio must be in [0, 1]",
                                  "vx.yaml:3: unknown key 'colour' in listeners[0]",
                                  "vx.yaml:6: cluster 'c': endpoint weight must be at least 1",
                                  "vx.yaml:7: duplicate cluster name 'c'"));
}

TEST(YamlConfigLoaderTest, LoadsAFileAndResolvesPathsAgainstItsFolder) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("vx_loader_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::path file = dir / "vortex.yaml";
  {
    std::ofstream out(file);
    out << "listeners:\n"
           "  - address: \"127.0.0.1:8443\"\n"
           "    tls: { certificates: [ { cert: certs/c.pem, key: ../k.pem } ] }\n";
  }
  LoadResult r = load_config_file(file.string());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value()->file, file.string());
  EXPECT_EQ(r.value()->listeners[0].tls->certificates[0].cert, (dir / "certs/c.pem").string());
  EXPECT_EQ(r.value()->listeners[0].tls->certificates[0].key,
            (dir.parent_path() / "k.pem").string());
  std::filesystem::remove_all(dir);
}

TEST(YamlConfigLoaderTest, ReportsAnUnreadableFile) {
  LoadResult r = load_config_file("/nonexistent/vortex.yaml");
  ASSERT_FALSE(r.has_value());
  ASSERT_EQ(r.error().size(), 1u);
  EXPECT_EQ(r.error()[0].to_string(),
            "/nonexistent/vortex.yaml: cannot read file: No such file or directory");
}

}  // namespace
}  // namespace vx::adapters::config

namespace vx::adapters::config {
namespace {

TEST(YamlConfigLoaderTest, TurnsOddDocumentsIntoDiagnosticsNotExceptions) {
  for (std::string_view yaml :
       {"listeners: {}\n", "listeners: 5\n", "routes: [1, [2], {a: b}]\n", "? [a]\n: b\n",
        "listeners: [ *nope ]\n", "a: &x [1]\nb: *x\n", "\t\tlisteners:\n", "\xff\xfe\x00junk",
        "limits: [1]\n", "listeners: [ { address: { a: 1 } } ]\n", "%YAML 9.9\n---\nworkers: 1\n",
        "routes: [ { match: { headers: [a] } } ]\n",
        "routes: [ { match: { headers: { a: [b] } } } ]\n"}) {
    LoadResult r = load_config_string(yaml, "odd.yaml");
    ASSERT_FALSE(r.has_value()) << yaml;
    EXPECT_FALSE(r.error().empty()) << yaml;
  }
}

}  // namespace
}  // namespace vx::adapters::config
