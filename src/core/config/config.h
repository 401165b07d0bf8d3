// The configuration model of SPEC.md §2, after defaults and validation. Immutable once built;
// shared by all workers as std::shared_ptr<const Config> and swapped whole on reload.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vx::core::config {

using Millis = std::chrono::milliseconds;

// Where a value came from, for "FILE:LINE: message" diagnostics. line 0 = unknown.
// `keys` holds the line of each key written inside the item, by its YAML path relative to the
// item ("timeout_ms", "match.path_regex"), so a message can point at the offending key.
struct SourceLine {
  int line = 0;
  std::vector<std::pair<std::string, int>> keys;

  // The line of `key` if it was written, else the item's own line.
  int of(std::string_view key) const {
    for (const auto& [k, l] : keys) {
      if (k == key) return l;
    }
    return line;
  }
};

struct SocketAddress {
  std::string host;  // numeric IPv4/IPv6 literal or a name (endpoints only)
  uint16_t port = 0;
  std::string text;  // as written, "host:port"
};

struct TlsCertificate {
  std::string cert;  // file paths, relative to the config file's folder once loaded
  std::string key;
  std::vector<std::string> server_names;  // exact or "*.example.com"; "*" = any
  SourceLine where;
};

struct ListenerTls {
  std::vector<TlsCertificate> certificates;  // first is the default
  std::vector<std::string> alpn{"h2", "http/1.1"};
};

struct Listener {
  std::string name;
  SocketAddress address;
  std::optional<ListenerTls> tls;
  bool http3 = false;
  SourceLine where;
};

struct Limits {
  uint64_t max_header_bytes = 65536;
  uint32_t max_headers = 100;
  uint64_t max_uri_bytes = 8192;
  uint64_t max_body_bytes = 0;  // 0 = unlimited
  Millis header_timeout{10000};
  Millis idle_timeout{60000};
  uint64_t max_connections = 100000;
};

struct RouteMatch {
  std::optional<std::string> host;  // exact, or "*.suffix"
  std::optional<std::string> path_prefix;
  std::optional<std::string> path_exact;
  std::optional<std::string> path_regex;                     // RE2 syntax, full match
  std::vector<std::string> methods;                          // upper case; empty = any
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case name, exact value
  std::optional<std::string> ai_model;
};

struct DirectResponse {
  uint16_t status = 200;
  std::string body;
  std::string content_type = "text/plain";
};

enum class RetryOn : uint8_t { ConnectFailure, Reset };

struct RetryPolicy {
  uint32_t attempts = 1;  // extra attempts after the first
  std::vector<RetryOn> on{RetryOn::ConnectFailure, RetryOn::Reset};
};

struct Route {
  std::string name;
  RouteMatch match;
  std::optional<std::string> cluster;  // exactly one of cluster / direct_response
  std::optional<DirectResponse> direct_response;
  Millis timeout{15000};
  std::optional<RetryPolicy> retries;
  std::optional<std::string> rate_limit;  // policy name
  std::vector<std::string> plugins;
  SourceLine where;
};

enum class UpstreamProtocol : uint8_t { Http1, H2c, H2 };
enum class LbPolicy : uint8_t { PeakEwma, RoundRobin, LeastRequest, Random };

struct UpstreamTls {
  std::string sni;
  bool verify = true;
  std::string ca;
};

struct PeakEwmaSettings {
  Millis decay{10000};
  Millis default_rtt{1};
};

struct Endpoint {
  SocketAddress address;
  uint32_t weight = 1;
  std::vector<std::string> ai_models;
  SourceLine where;
};

struct PoolSettings {
  uint32_t max_idle_per_endpoint = 128;
  Millis idle_timeout{30000};
};

struct CircuitBreakerSettings {
  uint32_t consecutive_failures = 5;
  Millis open{5000};
  uint32_t half_open_requests = 1;
};

struct HealthCheck {
  std::string path = "/healthz";
  Millis interval{2000};
  Millis timeout{500};
  uint32_t unhealthy_after = 3;
  uint32_t healthy_after = 2;
};

struct Cluster {
  std::string name;
  UpstreamProtocol protocol = UpstreamProtocol::Http1;
  std::optional<UpstreamTls> tls;
  LbPolicy lb = LbPolicy::PeakEwma;
  PeakEwmaSettings peak_ewma;
  bool model_routing = false;
  std::vector<Endpoint> endpoints;
  Millis connect_timeout{1000};
  PoolSettings pool;
  CircuitBreakerSettings circuit_breaker;
  std::optional<HealthCheck> health_check;  // absent = no active checks
  SourceLine where;
};

enum class RateLimitStoreKind : uint8_t { Local, Redis };
enum class OnError : uint8_t { Allow, Deny };

struct RedisSettings {
  std::string url = "redis://127.0.0.1:6379";
  Millis timeout{50};
  uint32_t pool_size = 4;
  OnError on_error = OnError::Allow;
};

struct RateLimitPolicy {
  std::string name;
  std::string key = "client_ip";  // client_ip | header:NAME | route
  uint64_t rate = 100;
  Millis period{1000};
  uint64_t burst = 20;
  SourceLine where;
};

struct RateLimits {
  RateLimitStoreKind store = RateLimitStoreKind::Local;
  RedisSettings redis;
  std::vector<RateLimitPolicy> policies;
};

enum class XdpMode : uint8_t { Auto, Native, Generic };

struct Bans {
  uint32_t after_violations = 0;  // 0 = off
  Millis window{10000};
  Millis ttl{60000};
  Millis sweep_interval{5000};
  std::string xdp_interface;
  XdpMode xdp_mode = XdpMode::Auto;
};

enum class WasmAbi : uint8_t { ProxyWasm, Execute };

struct WasmPlugin {
  std::string name;
  std::string file;
  WasmAbi abi = WasmAbi::ProxyWasm;
  std::string config;
  bool fail_open = false;
  Millis max_call{50};
  SourceLine where;
};

struct Wasm {
  std::string runtime = "v8";
  std::vector<WasmPlugin> plugins;
};

struct Admin {
  std::string socket = "/tmp/vortex_admin.sock";
};

struct Metrics {
  std::string address = "127.0.0.1:9091";  // empty = off
};

struct Tracing {
  std::string otlp_endpoint;
  double sample_ratio = 0.0;
  std::string service_name = "vortex";
  uint32_t queue_size = 4096;
};

struct Kubernetes {
  bool enabled = false;
  std::string namespace_ = "default";
  std::string kubeconfig;
};

struct AccessLog {
  std::string path = "stdout";  // "off" disables; "stdout", "stderr" or a file
  std::string format = "json";
};

struct Config {
  std::string file;      // the file it was loaded from
  uint32_t workers = 0;  // 0 = auto (CPU count)
  bool cpu_pinning = false;
  Millis drain_timeout{10000};
  std::vector<Listener> listeners;
  Limits limits;
  std::vector<Route> routes;
  std::vector<Cluster> clusters;
  RateLimits rate_limits;
  Bans bans;
  Wasm wasm;
  Admin admin;
  Metrics metrics;
  Tracing tracing;
  Kubernetes kubernetes;
  AccessLog access_log;
  SourceLine
      where;  // keys by full YAML path: "workers", "limits.max_headers", "rate_limits.redis.url"

  const Cluster* find_cluster(std::string_view name) const;
  const RateLimitPolicy* find_policy(std::string_view name) const;
  const WasmPlugin* find_plugin(std::string_view name) const;
};

}  // namespace vx::core::config
