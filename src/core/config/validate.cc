// Semantic validation of the config model; every error collected (STYLE.md §3, control plane).
#include "core/config/validate.h"

#include <set>
#include <string>

#include "core/config/socket_address.h"
#include "core/http/token.h"

namespace vx::core::config {
namespace {

class Checker {
 public:
  Checker(const Config& config, const RegexCompiler& regex) : config_(config), regex_(regex) {}

  std::vector<Diagnostic> run() {
    check_top_level();
    check_listeners();
    check_limits();
    check_routes();
    check_clusters();
    check_rate_limits();
    check_bans();
    check_wasm();
    check_observability();
    return std::move(out_);
  }

 private:
  void error(int line, std::string message) {
    out_.push_back(Diagnostic{config_.file, line, std::move(message)});
  }
  int top(std::string_view key) const { return config_.where.of(key); }

  // Reports each name seen twice, at the second item.
  template <typename T>
  void check_unique_names(const std::vector<T>& items, std::string_view what) {
    std::set<std::string, std::less<>> seen;
    for (const T& item : items) {
      if (!seen.insert(item.name).second) {
        error(item.where.of("name"),
              "duplicate " + std::string(what) + " name '" + item.name + "'");
      }
    }
  }

  void positive(int line, std::string_view key, int64_t value) {
    if (value <= 0) error(line, std::string(key) + " must be greater than 0");
  }

  void check_top_level() {
    positive(top("drain_timeout_ms"), "drain_timeout_ms", config_.drain_timeout.count());
  }

  void check_listeners() {
    if (config_.listeners.empty()) {
      error(top("listeners") > 0 ? top("listeners") : 1, "at least one listener is required");
    }
    check_unique_names(config_.listeners, "listener");
    std::set<std::string> addresses;
    for (const Listener& l : config_.listeners) {
      if (l.address.port == 0 ||
          !(is_ipv4_literal(l.address.host) || is_ipv6_literal(l.address.host))) {
        error(l.where.of("address"), "listener '" + l.name + "' needs an address ip:port");
      } else if (!addresses.insert(l.address.host + "|" + std::to_string(l.address.port)).second) {
        error(l.where.of("address"), "duplicate listener address '" + l.address.text + "'");
      }
      if (l.http3 && !l.tls) {
        error(l.where.of("http3"), "listener '" + l.name + "': http3 needs tls");
      }
      if (!l.tls) continue;
      if (l.tls->certificates.empty()) {
        error(l.where.of("tls"), "listener '" + l.name + "': tls needs at least one certificate");
      }
      for (const TlsCertificate& c : l.tls->certificates) {
        if (c.cert.empty()) error(c.where.of("cert"), "certificate needs a cert file");
        if (c.key.empty()) error(c.where.of("key"), "certificate needs a key file");
        for (const std::string& n : c.server_names) {
          if (n != "*" && !is_valid_host_pattern(n)) {
            error(c.where.of("server_names"),
                  "bad server name '" + n + "': expected a host name, \"*.domain\" or \"*\"");
          }
        }
      }
      if (l.tls->alpn.empty()) error(l.where.of("tls.alpn"), "alpn must not be empty");
      for (const std::string& p : l.tls->alpn) {
        if (p != "h2" && p != "http/1.1") {
          error(l.where.of("tls.alpn"), "bad alpn protocol '" + p + "': expected h2 or http/1.1");
        }
      }
    }
  }

  void check_limits() {
    const Limits& l = config_.limits;
    positive(top("limits.max_header_bytes"), "max_header_bytes",
             static_cast<int64_t>(l.max_header_bytes));
    positive(top("limits.max_headers"), "max_headers", l.max_headers);
    positive(top("limits.max_uri_bytes"), "max_uri_bytes", static_cast<int64_t>(l.max_uri_bytes));
    positive(top("limits.header_timeout_ms"), "header_timeout_ms", l.header_timeout.count());
    positive(top("limits.idle_timeout_ms"), "idle_timeout_ms", l.idle_timeout.count());
    positive(top("limits.max_connections"), "max_connections",
             static_cast<int64_t>(l.max_connections));
  }

  // path_prefix, path_exact: match() compares the request's path before any '?' or '#'
  // (route_table.h), so a pattern holding one could never match: refused rather than a route
  // that is silently dead.
  void check_path(const Route& r, const std::string& key, const std::optional<std::string>& path) {
    if (!path) return;
    const int line = r.where.of("match." + key);
    if (path->empty() || (*path)[0] != '/') {
      error(line, "route '" + r.name + "': " + key + " must start with '/'");
    } else if (path->find_first_of("?#") != std::string::npos) {
      error(line, "route '" + r.name + "': " + key +
                      " cannot hold '?' or '#': only the path before the query is matched");
    }
  }

  void check_route_match(const Route& r) {
    const RouteMatch& m = r.match;
    const SourceLine& w = r.where;
    int paths = int(m.path_prefix.has_value()) + int(m.path_exact.has_value()) +
                int(m.path_regex.has_value());
    if (paths > 1) {
      error(w.of("match"), "route '" + r.name +
                               "': at most one of path_prefix, path_exact, path_regex may be set");
    }
    check_path(r, "path_prefix", m.path_prefix);
    check_path(r, "path_exact", m.path_exact);
    if (m.path_regex) {
      auto compiled = regex_.compile(*m.path_regex);
      if (!compiled) {
        error(w.of("match.path_regex"), "route '" + r.name + "': bad path_regex '" + *m.path_regex +
                                            "': " + compiled.error());
      }
    }
    if (m.host && !is_valid_host_pattern(*m.host)) {
      error(w.of("match.host"), "route '" + r.name + "': bad host '" + *m.host +
                                    "': expected a host name or \"*.domain\" (no port)");
    }
    for (const std::string& method : m.methods) {
      if (!is_token(method)) {
        error(w.of("match.methods"), "route '" + r.name + "': bad method '" + method + "'");
      }
    }
    for (const auto& [name, value] : m.headers) {
      if (!is_token(name)) {
        error(w.of("match.headers"), "route '" + r.name + "': bad header name '" + name + "'");
      }
    }
    if (m.ai_model && m.ai_model->empty()) {
      error(w.of("match.ai_model"), "route '" + r.name + "': ai_model must not be empty");
    }
  }

  void check_routes() {
    check_unique_names(config_.routes, "route");
    for (const Route& r : config_.routes) {
      const SourceLine& w = r.where;
      check_route_match(r);
      if (r.cluster.has_value() == r.direct_response.has_value()) {
        error(w.line, "route '" + r.name + "' needs exactly one of cluster or direct_response");
      }
      // A cluster Kubernetes fills is declared here too, without endpoints (SPEC.md §7).
      if (r.cluster && !config_.find_cluster(*r.cluster)) {
        error(w.of("cluster"), "route '" + r.name + "': unknown cluster '" + *r.cluster + "'");
      }
      if (r.direct_response) {
        uint16_t s = r.direct_response->status;
        if (s < 100 || s > 599) {
          error(w.of("direct_response.status"), "route '" + r.name + "': direct_response status " +
                                                    std::to_string(s) + " is not in 100..599");
        }
      }
      positive(w.of("timeout_ms"), "timeout_ms", r.timeout.count());
      if (r.retries && r.retries->on.empty()) {
        error(w.of("retries.on"), "route '" + r.name + "': retries.on must not be empty");
      }
      if (r.rate_limit && !config_.find_policy(*r.rate_limit)) {
        error(w.of("rate_limit"),
              "route '" + r.name + "': unknown rate limit policy '" + *r.rate_limit + "'");
      }
      for (const std::string& p : r.plugins) {
        if (!config_.find_plugin(p)) {
          error(w.of("plugins"), "route '" + r.name + "': unknown wasm plugin '" + p + "'");
        }
      }
    }
  }

  void check_clusters() {
    check_unique_names(config_.clusters, "cluster");
    for (const Cluster& c : config_.clusters) {
      const SourceLine& w = c.where;
      const std::string who = "cluster '" + c.name + "'";
      if (c.endpoints.empty() && !config_.kubernetes.enabled) {
        error(w.of("endpoints"), who + " has no endpoints (allowed only with kubernetes.enabled)");
      }
      for (const Endpoint& e : c.endpoints) {
        if (e.address.port == 0 || e.address.host.empty()) {
          error(e.where.of("address"), who + ": endpoint needs an address host:port");
        }
        if (e.weight < 1) error(e.where.of("weight"), who + ": endpoint weight must be at least 1");
      }
      if (c.protocol == UpstreamProtocol::H2c && c.tls) {
        error(w.of("tls"), who + ": tls cannot be used with protocol h2c (use h2)");
      }
      positive(w.of("peak_ewma.decay_ms"), "peak_ewma.decay_ms", c.peak_ewma.decay.count());
      positive(w.of("peak_ewma.default_rtt_ms"), "peak_ewma.default_rtt_ms",
               c.peak_ewma.default_rtt.count());
      positive(w.of("connect_timeout_ms"), "connect_timeout_ms", c.connect_timeout.count());
      positive(w.of("pool.idle_timeout_ms"), "pool.idle_timeout_ms", c.pool.idle_timeout.count());
      const CircuitBreakerSettings& cb = c.circuit_breaker;
      positive(w.of("circuit_breaker.consecutive_failures"), "circuit_breaker.consecutive_failures",
               cb.consecutive_failures);
      positive(w.of("circuit_breaker.open_ms"), "circuit_breaker.open_ms", cb.open.count());
      positive(w.of("circuit_breaker.half_open_requests"), "circuit_breaker.half_open_requests",
               cb.half_open_requests);
      if (c.health_check) {
        const HealthCheck& h = *c.health_check;
        if (h.path.empty() || h.path[0] != '/') {
          error(w.of("health_check.path"), who + ": health_check.path must start with '/'");
        }
        positive(w.of("health_check.interval_ms"), "health_check.interval_ms", h.interval.count());
        positive(w.of("health_check.timeout_ms"), "health_check.timeout_ms", h.timeout.count());
        positive(w.of("health_check.unhealthy_after"), "health_check.unhealthy_after",
                 h.unhealthy_after);
        positive(w.of("health_check.healthy_after"), "health_check.healthy_after", h.healthy_after);
      }
    }
  }

  void check_rate_limits() {
    const RateLimits& rl = config_.rate_limits;
    if (!is_valid_redis_url(rl.redis.url)) {
      error(top("rate_limits.redis.url"),
            "bad redis url '" + rl.redis.url + "': expected redis://host:port[/db]");
    }
    positive(top("rate_limits.redis.timeout_ms"), "redis.timeout_ms", rl.redis.timeout.count());
    positive(top("rate_limits.redis.pool_size"), "redis.pool_size", rl.redis.pool_size);
    check_unique_names(rl.policies, "rate limit policy");
    for (const RateLimitPolicy& p : rl.policies) {
      const std::string who = "rate limit policy '" + p.name + "'";
      bool header_key = p.key.rfind("header:", 0) == 0 && is_token(p.key.substr(7));
      if (p.key != "client_ip" && p.key != "route" && !header_key) {
        error(p.where.of("key"),
              who + ": bad key '" + p.key + "': expected client_ip, header:NAME or route");
      }
      positive(p.where.of("rate"), "rate", static_cast<int64_t>(p.rate));
      positive(p.where.of("period_ms"), "period_ms", p.period.count());
    }
  }

  void check_bans() {
    const Bans& b = config_.bans;
    positive(top("bans.window_ms"), "bans.window_ms", b.window.count());
    positive(top("bans.ttl_ms"), "bans.ttl_ms", b.ttl.count());
    positive(top("bans.sweep_interval_ms"), "bans.sweep_interval_ms", b.sweep_interval.count());
  }

  void check_wasm() {
    const Wasm& w = config_.wasm;
    if (w.runtime != "v8" && w.runtime != "wabt") {
      error(top("wasm.runtime"), "bad wasm runtime '" + w.runtime + "': expected v8 or wabt");
    }
    check_unique_names(w.plugins, "wasm plugin");
    for (const WasmPlugin& p : w.plugins) {
      if (p.file.empty()) error(p.where.of("file"), "wasm plugin '" + p.name + "' needs a file");
      positive(p.where.of("max_call_ms"), "max_call_ms", p.max_call.count());
    }
  }

  void check_observability() {
    const std::string& metrics = config_.metrics.address;
    if (!metrics.empty()) {
      auto parsed = parse_socket_address(metrics, HostKind::IpLiteral);
      if (!parsed) error(top("metrics.address"), parsed.error());
    }
    const Tracing& t = config_.tracing;
    if (!(t.sample_ratio >= 0.0 && t.sample_ratio <= 1.0)) {
      error(top("tracing.sample_ratio"), "tracing.sample_ratio must be in [0, 1]");
    }
    if (!t.otlp_endpoint.empty() && t.otlp_endpoint.rfind("http://", 0) != 0 &&
        t.otlp_endpoint.rfind("https://", 0) != 0) {
      error(top("tracing.otlp_endpoint"),
            "bad otlp_endpoint '" + t.otlp_endpoint + "': expected an http:// or https:// URL");
    }
    if (t.service_name.empty())
      error(top("tracing.service_name"), "service_name must not be empty");
    positive(top("tracing.queue_size"), "tracing.queue_size", t.queue_size);
    if (config_.kubernetes.namespace_.empty()) {
      error(top("kubernetes.namespace"), "kubernetes.namespace must not be empty");
    }
    if (config_.access_log.path.empty()) {
      error(top("access_log.path"), "access_log.path must not be empty (use \"off\")");
    }
    if (config_.access_log.format != "json") {
      error(top("access_log.format"),
            "bad access_log format '" + config_.access_log.format + "': expected json");
    }
  }

  const Config& config_;
  const RegexCompiler& regex_;
  std::vector<Diagnostic> out_;
};

}  // namespace

bool is_token(std::string_view s) {
  return http::is_token(s);
}

bool is_valid_host_pattern(std::string_view pattern) {
  if (pattern.rfind("*.", 0) == 0) return is_dns_name(pattern.substr(2));
  if (pattern.size() > 2 && pattern.front() == '[' && pattern.back() == ']') {
    return is_ipv6_literal(pattern.substr(1, pattern.size() - 2));
  }
  return is_dns_name(pattern);
}

bool is_valid_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return false;
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (db.empty() || db.size() > 5) return false;
    for (char c : db) {
      if (c < '0' || c > '9') return false;
    }
    rest = rest.substr(0, slash);
  }
  return parse_socket_address(rest, HostKind::IpOrName).has_value();
}

std::vector<Diagnostic> validate(const Config& config, const RegexCompiler& regex) {
  return Checker(config, regex).run();
}

}  // namespace vx::core::config
