#include "adapters/admin/metrics_exposition.h"

#include <algorithm>

#include <array>
#include <cstdio>
#include <map>
#include <string_view>
#include <utility>

#include "adapters/admin/prometheus_text.h"

namespace vx::adapters::admin {

namespace {

using proxy::StatusCounters;

struct StatusSums {
  std::array<uint64_t, StatusCounters::kLast - StatusCounters::kFirst + 1> by_status{};
  void add(const StatusCounters& c) {
    for (size_t i = 0; i < by_status.size(); ++i) by_status[i] += c.by_status[i].load();
  }
};

struct RouteSums {
  StatusSums requests;
  std::array<uint64_t, proxy::kDurationBuckets.size() + 1> buckets{};
  uint64_t sum_ns = 0;
};

struct ListenerSums {
  uint64_t connections = 0;
  std::array<uint64_t, proxy::kDownstreamProtocols> requests{};
};

// vortex_downstream_requests_total's protocol label, by proxy::DownstreamProtocol.
constexpr std::array<std::string_view, proxy::kDownstreamProtocols> kProtocolNames{"http1", "h2",
                                                                                   "h3"};

struct PolicySums {
  uint64_t allowed = 0, limited = 0, error = 0;
};

std::string status_text(size_t index) {
  return std::to_string(index + StatusCounters::kFirst);
}

std::string bound_text(double bound) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", bound);
  return buffer;
}

}  // namespace

std::string render_metrics(std::span<const proxy::WorkerMetrics* const> shards,
                           const proxy::Runtime* runtime, const ProcessMetrics& process,
                           core::TimePoint now) {
  // Sum the shards first (std::map: stable, sorted output).
  std::map<std::string, RouteSums, std::less<>> routes;
  std::map<std::pair<std::string, std::string>, StatusSums> upstreams;
  std::map<std::string, PolicySums, std::less<>> policies;
  std::map<std::string, ListenerSums, std::less<>> listeners;
  for (const proxy::WorkerMetrics* shard : shards) {
    shard->visit([&](const auto& route_series, const auto& upstream_series,
                     const auto& policy_series, const auto& listener_series) {
      for (const auto& r : route_series) {
        RouteSums& sums = routes[r->route];
        sums.requests.add(r->requests);
        for (size_t i = 0; i < sums.buckets.size(); ++i) {
          sums.buckets[i] += r->duration_buckets[i].load();
        }
        sums.sum_ns += r->duration_sum_ns.load();
      }
      for (const auto& u : upstream_series) upstreams[{u->cluster, u->endpoint}].add(u->requests);
      for (const auto& p : policy_series) {
        PolicySums& sums = policies[p->policy];
        sums.allowed += p->allowed.load();
        sums.limited += p->limited.load();
        sums.error += p->error.load();
      }
      for (const auto& l : listener_series) {
        ListenerSums& sums = listeners[l->listener];
        sums.connections += l->connections.load();
        for (size_t i = 0; i < sums.requests.size(); ++i) sums.requests[i] += l->requests[i].load();
      }
    });
  }

  PrometheusText out;
  out.family("vortex_build_info", "gauge", "Vortex version; always 1.");
  out.sample("vortex_build_info", {{"version", process.version}}, uint64_t{1});

  out.family("vortex_downstream_connections_active", "gauge",
             "Open downstream (client) connections per listener.");
  for (const auto& [name, sums] : listeners) {
    out.sample("vortex_downstream_connections_active", {{"listener", name}}, sums.connections);
  }

  out.family("vortex_downstream_requests_total", "counter",
             "Finished downstream requests by listener and protocol (http1, h2, h3).");
  for (const auto& [name, sums] : listeners) {
    for (size_t i = 0; i < sums.requests.size(); ++i) {
      out.sample("vortex_downstream_requests_total",
                 {{"listener", name}, {"protocol", kProtocolNames[i]}}, sums.requests[i]);
    }
  }

  out.family("vortex_http_requests_total", "counter",
             "Finished downstream requests by route (empty: no route matched) and status.");
  for (const auto& [route, sums] : routes) {
    for (size_t i = 0; i < sums.requests.by_status.size(); ++i) {
      if (sums.requests.by_status[i] == 0) continue;
      out.sample("vortex_http_requests_total", {{"route", route}, {"code", status_text(i)}},
                 sums.requests.by_status[i]);
    }
  }

  out.family("vortex_http_request_duration_seconds", "histogram",
             "Time from the request head to the end of the response, by route.");
  for (const auto& [route, sums] : routes) {
    uint64_t cumulative = 0;
    for (uint64_t b : sums.buckets) cumulative += b;
    if (cumulative == 0) continue;
    cumulative = 0;
    for (size_t i = 0; i < proxy::kDurationBuckets.size(); ++i) {
      cumulative += sums.buckets[i];
      out.sample("vortex_http_request_duration_seconds_bucket",
                 {{"route", route}, {"le", bound_text(proxy::kDurationBuckets[i])}}, cumulative);
    }
    cumulative += sums.buckets.back();
    out.sample("vortex_http_request_duration_seconds_bucket", {{"route", route}, {"le", "+Inf"}},
               cumulative);
    out.sample("vortex_http_request_duration_seconds_sum", {{"route", route}},
               static_cast<double>(sums.sum_ns) / 1e9);
    out.sample("vortex_http_request_duration_seconds_count", {{"route", route}}, cumulative);
  }

  out.family("vortex_upstream_requests_total", "counter",
             "Requests sent to an upstream endpoint, by the status the client got.");
  for (const auto& [key, sums] : upstreams) {
    for (size_t i = 0; i < sums.by_status.size(); ++i) {
      if (sums.by_status[i] == 0) continue;
      out.sample("vortex_upstream_requests_total",
                 {{"cluster", key.first}, {"endpoint", key.second}, {"code", status_text(i)}},
                 sums.by_status[i]);
    }
  }

  // The endpoint gauges come from the running snapshot's balancers (shared atomics).
  struct EndpointView {
    std::string_view cluster;
    const core::lb::EndpointState* state;
  };
  std::vector<EndpointView> endpoints;
  if (runtime) {
    for (const auto& cluster : runtime->clusters()) {
      for (const core::lb::EndpointState* e : cluster.balancer->endpoints()) {
        endpoints.push_back({cluster.config->name, e});
      }
    }
  }
  out.family("vortex_upstream_ewma_seconds", "gauge",
             "Peak-EWMA response latency estimate per endpoint.");
  for (const auto& e : endpoints) {
    out.sample("vortex_upstream_ewma_seconds",
               {{"cluster", e.cluster}, {"endpoint", e.state->address()}},
               e.state->latency().value_ms_at(now) / 1e3);
  }
  out.family("vortex_upstream_active_requests", "gauge", "Requests in flight per endpoint.");
  for (const auto& e : endpoints) {
    out.sample("vortex_upstream_active_requests",
               {{"cluster", e.cluster}, {"endpoint", e.state->address()}},
               uint64_t{e.state->active()});
  }
  out.family("vortex_circuit_breaker_state", "gauge",
             "Circuit breaker per endpoint: 0 closed, 1 open, 2 half-open.");
  for (const auto& e : endpoints) {
    out.sample("vortex_circuit_breaker_state",
               {{"cluster", e.cluster}, {"endpoint", e.state->address()}},
               static_cast<uint64_t>(e.state->breaker().state(now)));
  }
  out.family("vortex_endpoint_healthy", "gauge", "1 when the endpoint passes its health checks.");
  for (const auto& e : endpoints) {
    out.sample("vortex_endpoint_healthy",
               {{"cluster", e.cluster}, {"endpoint", e.state->address()}},
               uint64_t{e.state->healthy() ? 1u : 0u});
  }

  out.family("vortex_rate_limit_decisions_total", "counter",
             "Rate-limit decisions per policy: allowed, limited (429) or error (store failed).");
  for (const auto& [policy, sums] : policies) {
    out.sample("vortex_rate_limit_decisions_total", {{"policy", policy}, {"decision", "allowed"}},
               sums.allowed);
    out.sample("vortex_rate_limit_decisions_total", {{"policy", policy}, {"decision", "limited"}},
               sums.limited);
    out.sample("vortex_rate_limit_decisions_total", {{"policy", policy}, {"decision", "error"}},
               sums.error);
  }

  out.family("vortex_bans_active", "gauge", "Client addresses banned now.");
  out.sample("vortex_bans_active", {}, process.bans_active);
  out.family("vortex_xdp_dropped_packets_total", "counter",
             "Packets of banned clients dropped in the kernel (XDP).");
  out.sample("vortex_xdp_dropped_packets_total", {}, process.xdp_dropped_packets);
  // One sample per mode, 1 on the active one: a dashboard or alert matches on the label.
  out.family("vortex_bans_enforcement", "gauge",
             "Where bans are enforced now: xdp_native, xdp_generic (kernel) or userspace.");
  for (const auto enforcement : core::ban::kEnforcements) {
    out.sample("vortex_bans_enforcement", {{"mode", core::ban::enforcement_name(enforcement)}},
               uint64_t{enforcement == process.ban_enforcement});
  }
  out.family("vortex_wasm_calls_total", "counter",
             "Wasm plugin calls by plugin and result (continue, deny, trap, timeout).");
  static constexpr std::string_view kResults[] = {"continue", "deny", "trap", "timeout"};
  for (const auto& plugin : process.wasm_calls) {
    for (size_t i = 0; i < std::size(kResults); ++i) {
      out.sample("vortex_wasm_calls_total", {{"plugin", plugin.plugin}, {"result", kResults[i]}},
                 plugin.results[i]);
    }
  }
  // Metrics plugins define: their names become a label, so any name a plugin picks is valid
  // exposition (Prometheus metric names cannot hold every string).
  using Type = WasmPluginMetric::Type;
  out.family("vortex_wasm_plugin_metric_total", "counter", "Counters Wasm plugins define.");
  for (const auto& m : process.wasm_metrics) {
    if (m.type == Type::Counter) {
      out.sample("vortex_wasm_plugin_metric_total", {{"plugin", m.plugin}, {"metric", m.name}},
                 static_cast<uint64_t>(std::max<int64_t>(m.value, 0)));
    }
  }
  out.family("vortex_wasm_plugin_metric_current", "gauge", "Gauges Wasm plugins define.");
  for (const auto& m : process.wasm_metrics) {
    if (m.type == Type::Gauge) {
      out.sample("vortex_wasm_plugin_metric_current", {{"plugin", m.plugin}, {"metric", m.name}},
                 static_cast<double>(m.value));
    }
  }
  out.family("vortex_wasm_plugin_metric_recorded", "summary",
             "Histograms Wasm plugins define, as the sum and count of what they recorded.");
  for (const auto& m : process.wasm_metrics) {
    if (m.type == Type::Histogram) {
      out.sample("vortex_wasm_plugin_metric_recorded_sum",
                 {{"plugin", m.plugin}, {"metric", m.name}}, static_cast<double>(m.value));
      out.sample("vortex_wasm_plugin_metric_recorded_count",
                 {{"plugin", m.plugin}, {"metric", m.name}}, m.count);
    }
  }
  out.family("vortex_config_reloads_total", "counter",
             "Config reloads (admin ReloadConfig and SIGHUP) by result.");
  out.sample("vortex_config_reloads_total", {{"result", "success"}}, process.reloads_success);
  out.sample("vortex_config_reloads_total", {{"result", "failure"}}, process.reloads_failure);
  out.family("vortex_tracing_spans_dropped_total", "counter",
             "Trace spans dropped because the exporter's queue was full.");
  out.sample("vortex_tracing_spans_dropped_total", {}, process.tracing_spans_dropped);
  if (process.kubernetes) {
    const KubernetesMetrics& k = *process.kubernetes;
    static constexpr std::array<const char*, 5> kTypes{"ADDED", "MODIFIED", "DELETED", "BOOKMARK",
                                                       "ERROR"};
    out.family("vortex_kubernetes_watch_events_total", "counter",
               "VortexRoute watch events received, by type.");
    for (size_t i = 0; i < kTypes.size(); ++i) {
      out.sample("vortex_kubernetes_watch_events_total", {{"type", kTypes[i]}}, k.watch_events[i]);
    }
    out.family("vortex_kubernetes_relists_total", "counter",
               "VortexRoute lists after the first (410 Gone, a broken watch, a restart of it).");
    out.sample("vortex_kubernetes_relists_total", {}, k.relists);
    out.family("vortex_kubernetes_watch_failures_total", "counter",
               "VortexRoute lists and watches that failed (each followed by a backoff).");
    out.sample("vortex_kubernetes_watch_failures_total", {}, k.watch_failures);
    out.family("vortex_kubernetes_watch_connected", "gauge",
               "1 while the VortexRoute watch stream is open.");
    out.sample("vortex_kubernetes_watch_connected", {}, uint64_t{k.watch_connected ? 1u : 0u});
    out.family("vortex_kubernetes_synced", "gauge",
               "1 while the applied VortexRoute view is current (listed and watched since).");
    out.sample("vortex_kubernetes_synced", {}, uint64_t{k.synced ? 1u : 0u});
    out.family("vortex_kubernetes_resources_rejected_total", "counter",
               "VortexRoute generations refused, by reason (also in their status conditions).");
    for (size_t i = 1; i < k.rejected.size(); ++i) {
      out.sample("vortex_kubernetes_resources_rejected_total",
                 {{"reason", core::k8s::reason_name(static_cast<core::k8s::Reason>(i))}},
                 k.rejected[i]);
    }
    out.family("vortex_kubernetes_status_write_failures_total", "counter",
               "VortexRoute status PATCHes that failed (each tried again after a backoff).");
    out.sample("vortex_kubernetes_status_write_failures_total", {}, k.status_write_failures);
  }
  // Every task kind from the start, zeros included, so rate() and alerts see a series before
  // the first failure.
  out.family("vortex_contained_failures_total", "counter",
             "Exceptions that escaped a spawned task or a side thread and were contained there "
             "(a bug; logged at most once a second per task), by task.");
  for (size_t i = 0; i < process.contained_failures.size(); ++i) {
    out.sample("vortex_contained_failures_total",
               {{"task", ports::task_kind_name(static_cast<ports::TaskKind>(i))}},
               process.contained_failures[i]);
  }
  return out.take();
}

}  // namespace vx::adapters::admin
