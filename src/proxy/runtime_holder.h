// RuntimeHolder: the process's current Runtime, swapped whole by the control plane (start-up,
// reload). Workers read it through a WorkerRuntime cache that takes the lock only when the
// generation changed, so the request path is lock-free (one relaxed-acquire load).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "proxy/runtime.h"

namespace vx::proxy {

class RuntimeHolder {
 public:
  // Any thread. Requests already running keep the snapshot they hold.
  void publish(std::shared_ptr<const Runtime> runtime) {
    std::lock_guard lock(mutex_);
    current_ = std::move(runtime);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const Runtime> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Runtime> current_;
  std::atomic<uint64_t> generation_{0};
};

// One per worker thread; not thread-safe.
class WorkerRuntime {
 public:
  explicit WorkerRuntime(const RuntimeHolder& holder) : holder_(holder) {}
  const std::shared_ptr<const Runtime>& get() {
    const uint64_t generation = holder_.generation();
    if (generation != generation_) {
      current_ = holder_.load();
      generation_ = generation;
    }
    return current_;
  }
  // Drops the snapshot held here (a worker that ended: what its snapshot owns, such as Wasm
  // instances, is released while the worker's io_context still exists).
  void release() {
    current_.reset();
    generation_ = ~0ULL;
  }

 private:
  const RuntimeHolder& holder_;
  uint64_t generation_ = ~0ULL;
  std::shared_ptr<const Runtime> current_;
};

}  // namespace vx::proxy
