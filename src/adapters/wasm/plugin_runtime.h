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

#include "adapters/wasm/call_counters.h"
#include "adapters/wasm/plugin_instance.h"
#include "adapters/wasm/plugin_module.h"

namespace vx::adapters::wasm {

class PluginRuntime {
 public:
  // `counters`: the plugin name's, shared with the runtimes it had before and will have after.
  PluginRuntime(std::shared_ptr<const PluginModule> module, unsigned workers,
                std::shared_ptr<CallCounters> counters);
  // Each worker's instance is released on that worker's thread (it owns timers there).
  ~PluginRuntime();

  const PluginModule& module() const { return *module_; }

  // On worker `worker`'s thread: starts its instance with `env` (kept to start it again after a
  // failure). Refuses with why; the apply that asked is then refused.
  core::Result<void, std::string> start_on_worker(unsigned worker, PluginEnvironment env);

  // On worker `worker`'s thread: the instance for a new request, a fresh one when the last one
  // broke (a trap or timeout); null when even that cannot start (logged once a second).
  std::shared_ptr<PluginInstance> instance(unsigned worker);

  void count(unsigned worker, CallResult result) { counters_->count(worker, result); }
  const CallCounters& counters() const { return *counters_; }

 private:
  struct Slot {
    std::optional<PluginEnvironment> env;
    std::shared_ptr<PluginInstance> instance;
    std::chrono::steady_clock::time_point last_failure_log{};
  };
  std::shared_ptr<const PluginModule> module_;
  std::vector<Slot> slots_;
  std::shared_ptr<CallCounters> counters_;
};

}  // namespace vx::adapters::wasm
