#include "adapters/wasm/plugin_runtime.h"

#include <cstdio>

namespace vx::adapters::wasm {

std::string_view to_string(CallResult result) {
  switch (result) {
    case CallResult::Continue:
      return "continue";
    case CallResult::Deny:
      return "deny";
    case CallResult::Trap:
      return "trap";
    case CallResult::Timeout:
      return "timeout";
  }
  return "?";
}

PluginRuntime::PluginRuntime(std::shared_ptr<const PluginModule> module, unsigned workers)
    : module_(std::move(module)), slots_(workers) {}

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

std::array<uint64_t, kCallResults> PluginRuntime::calls() const {
  std::array<uint64_t, kCallResults> sum{};
  for (const Slot& slot : slots_) {
    for (size_t i = 0; i < kCallResults; ++i)
      sum[i] += slot.calls[i].load(std::memory_order_relaxed);
  }
  return sum;
}

}  // namespace vx::adapters::wasm
