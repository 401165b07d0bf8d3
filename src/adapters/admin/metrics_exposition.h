// The metrics of SPEC.md §6 as Prometheus text: every worker's shard summed, the endpoint
// gauges read from the running snapshot's balancers, and the process-wide values the app
// hands in. Called on the metrics thread; reads shards and balancers through atomics only.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "core/ports/clock.h"
#include "ports/task_kind.h"
#include "proxy/runtime.h"
#include "proxy/worker_metrics.h"

namespace vx::adapters::admin {

// What only the app knows.
struct ProcessMetrics {
  std::string version;
  uint64_t reloads_success = 0;
  uint64_t reloads_failure = 0;
  uint64_t bans_active = 0;
  uint64_t xdp_dropped_packets = 0;
  uint64_t tracing_spans_dropped = 0;
  // By ports::TaskKind (ports::ContainedFailures::count).
  std::array<uint64_t, ports::kTaskKindCount> contained_failures{};
};

// runtime may be null (nothing loaded yet): the endpoint gauges are then left out.
std::string render_metrics(std::span<const proxy::WorkerMetrics* const> shards,
                           const proxy::Runtime* runtime, const ProcessMetrics& process,
                           core::TimePoint now);

}  // namespace vx::adapters::admin
