#include "adapters/wasm/plugin_runtime.h"

#include <cstdio>

namespace vx::adapters::wasm {

PluginRuntime::PluginRuntime(std::shared_ptr<const PluginModule> module, unsigned workers,
                             std::shared_ptr<CallCounters> counters)
    : module_(std::move(module)), slots_(workers), counters_(std::move(counters)) {}

PluginRuntime::~PluginRuntime() {
  for (Slot& slot : slots_) {
    if (!slot.instance || !slot.env || !slot.env->post) continue;
    // Whoever drops the last snapshot using this plugin (maybe the control thread), the
    // instance's timers and guest go away on the worker that made them.
    slot.env->post([instance = std::move(slot.instance)]() mutable { instance.reset(); });
  }
}

core::Result<void, std::string> PluginRuntime::start_on_worker(unsigned worker,
                                                               PluginEnvironment env) {
  Slot& slot = slots_.at(worker);
  slot.env.emplace(env);
  auto started = PluginInstance::start(module_, env);
  if (!started) return core::unexpected(started.error());
  slot.instance = std::move(*started);
  return {};
}

std::shared_ptr<PluginInstance> PluginRuntime::instance(unsigned worker) {
  Slot& slot = slots_[worker];
  if (slot.instance && !slot.instance->broken()) return slot.instance;
  if (!slot.env) return nullptr;
  // A broken instance is discarded (its state is unknown after a trap); streams still on it
  // keep it alive until they end, and call it no more.
  slot.instance.reset();
  auto started = PluginInstance::start(module_, *slot.env);
  if (started) {
    slot.instance = std::move(*started);
    return slot.instance;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - slot.last_failure_log > std::chrono::seconds(1)) {
    slot.last_failure_log = now;
    std::fprintf(stderr, "vortex: wasm plugin %s: cannot start again on worker %u: %s\n",
                 module_->name().c_str(), worker, started.error().c_str());
  }
  return nullptr;
}

}  // namespace vx::adapters::wasm
