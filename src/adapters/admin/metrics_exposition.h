// The metrics of SPEC.md §6 as Prometheus text: every worker's shard summed, the endpoint
// gauges read from the running snapshot's balancers, and the process-wide values the app
// hands in. Called on the metrics thread; reads shards and balancers through atomics only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/ban/ban_enforcement.h"
#include "core/k8s/vortex_route.h"
#include "core/ports/clock.h"
#include "ports/task_kind.h"
#include "proxy/runtime.h"
#include "proxy/worker_metrics.h"

namespace vx::adapters::admin {

// One Wasm plugin's calls (vortex_wasm_calls_total): continue, deny, trap, timeout.
struct WasmPluginCalls {
  std::string plugin;
  std::array<uint64_t, 4> results{};
};

// A metric a Wasm plugin defined (proxy_define_metric).
struct WasmPluginMetric {
  enum class Type : uint8_t { Counter, Gauge, Histogram };
  std::string plugin;
  std::string name;
  Type type = Type::Counter;
  int64_t value = 0;   // a histogram's sum
  uint64_t count = 0;  // a histogram's observations
};

// The Kubernetes watcher's counters (docs/kubernetes.md), when kubernetes.enabled.
struct KubernetesMetrics {
  // By watch event type: ADDED, MODIFIED, DELETED, BOOKMARK, ERROR.
  std::array<uint64_t, 5> watch_events{};
  uint64_t relists = 0;
  uint64_t watch_failures = 0;
  bool watch_connected = false;
  bool synced = false;
  // Refused resources by core::k8s::Reason (Accepted's slot stays 0).
  std::array<uint64_t, core::k8s::kReasonCount> rejected{};
  uint64_t status_write_failures = 0;
};

// What only the app knows.
struct ProcessMetrics {
  std::string version;
  uint64_t reloads_success = 0;
  uint64_t reloads_failure = 0;
  uint64_t bans_active = 0;
  uint64_t xdp_dropped_packets = 0;
  core::ban::Enforcement ban_enforcement = core::ban::Enforcement::UserSpace;
  uint64_t tracing_spans_dropped = 0;
  // By ports::TaskKind (ports::ContainedFailures::count).
  std::array<uint64_t, ports::kTaskKindCount> contained_failures{};
  std::vector<WasmPluginCalls> wasm_calls;
  std::vector<WasmPluginMetric> wasm_metrics;
  std::optional<KubernetesMetrics> kubernetes;  // absent: the families are left out
};

// runtime may be null (nothing loaded yet): the endpoint gauges are then left out.
std::string render_metrics(std::span<const proxy::WorkerMetrics* const> shards,
                           const proxy::Runtime* runtime, const ProcessMetrics& process,
                           core::TimePoint now);

}  // namespace vx::adapters::admin
