// WorkerContext: everything one worker's request pipeline uses, owned by that worker's thread.
// Not thread-safe; shared state inside (balancers, runtime holder) is atomics only.
#pragma once

#include <vector>

#include "core/ports/random.h"
#include "ports/upstream_pool.h"
#include "proxy/request_logger.h"
#include "proxy/runtime_holder.h"

namespace vx::proxy {

struct WorkerContext {
  WorkerRuntime runtime;
  ports::UpstreamPool& pool;
  core::Random& random;
  // Called in order when a stream ends: the access log (when on), metrics.
  std::vector<RequestLogger*> observers;
};

}  // namespace vx::proxy
