// PluginRuntime: one configured plugin as the snapshot that uses it runs it: its module, and on
// each worker its instance and call counters. Made when a config (or an UpdateWasmPlugin push)
// is applied, instances started on every worker before the snapshot serves, and kept alive by
// the chains of the snapshots that use it: requests in flight finish on the instance they
// started on. Slot `w` is touched only by worker w's thread (after start_on_worker returned).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "adapters/wasm/plugin_instance.h"
#include "adapters/wasm/plugin_module.h"

namespace vx::adapters::wasm {

// SPEC.md §6 vortex_wasm_calls_total{plugin,result}.
enum class CallResult : uint8_t { Continue, Deny, Trap, Timeout };
inline constexpr size_t kCallResults = 4;
std::string_view to_string(CallResult result);

class PluginRuntime {
 public:
  PluginRuntime(std::shared_ptr<const PluginModule> module, unsigned workers);

  const PluginModule& module() const { return *module_; }

  // On worker `worker`'s thread: starts its instance with `env` (kept to start it again after a
  // failure). Refuses with why; the apply that asked is then refused.
  core::Result<void, std::string> start_on_worker(unsigned worker, PluginEnvironment env);

  // On worker `worker`'s thread: the instance for a new request, a fresh one when the last one
  // broke (a trap or timeout); null when even that cannot start (logged once a second).
  std::shared_ptr<PluginInstance> instance(unsigned worker);

  void count(unsigned worker, CallResult result) {
    auto& c = slots_[worker].calls[static_cast<size_t>(result)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
  }
  // Any thread (the metrics scrape): the counts summed over the workers.
  std::array<uint64_t, kCallResults> calls() const;

 private:
  struct Slot {
    std::optional<PluginEnvironment> env;
    std::shared_ptr<PluginInstance> instance;
    std::array<std::atomic<uint64_t>, kCallResults> calls{};
    std::chrono::steady_clock::time_point last_failure_log{};
  };
  std::shared_ptr<const PluginModule> module_;
  std::vector<Slot> slots_;
};

}  // namespace vx::adapters::wasm
