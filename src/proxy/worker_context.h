// WorkerContext: everything one worker's request pipeline uses, owned by that worker's thread.
// Not thread-safe; shared state inside (balancers, runtime holder) is atomics only.
#pragma once

#include <memory>
#include <vector>

#include "core/config/config.h"
#include "core/ports/random.h"
#include "ports/rate_limit_store.h"
#include "ports/span_exporter.h"
#include "ports/upstream_pool.h"
#include "proxy/ban_registry.h"
#include "proxy/request_logger.h"
#include "proxy/runtime_holder.h"

namespace vx::proxy {

class WorkerMetrics;

struct WorkerContext {
  WorkerRuntime runtime;
  ports::UpstreamPool& pool;
  core::Random& random;
  // Called in order when a stream ends: the access log (when on), metrics.
  std::vector<RequestLogger*> observers;
  // This worker's metrics shard (also one of the observers); null when metrics are off. For
  // stages that count what a RequestRecord does not carry.
  WorkerMetrics* metrics = nullptr;
  // Rate limiting (SPEC.md rate_limits): the store decisions go to (the process-wide local one,
  // or this worker's Redis client) and what to do when it fails. Null = no store configured.
  ports::RateLimitStore* rate_limits = nullptr;
  core::config::OnError on_store_error = core::config::OnError::Allow;
  // Bans: null = off. The view is this worker's lock-free reader of the registry.
  BanRegistry* bans = nullptr;
  std::unique_ptr<BanView> ban_view;
  // Where sampled spans go (tracing: docs/tracing.md); null = never traced. A stream traces
  // only when its Runtime's tracing.otlp_endpoint is set as well.
  ports::SpanExporter* spans = nullptr;
  // Which worker this is (0-based): where filters keep per-worker state.
  unsigned index = 0;
  // How many workers the process runs (HTTP/3 listeners route packets between them).
  unsigned workers = 1;
};

}  // namespace vx::proxy
