// WasmPlugins: the Wasm plugins of one `vortex run` process (SPEC.md §2 wasm): compiled once per
// process on the engine `wasm.runtime` names (V8 or WABT), one instance per worker, made again when
// a config or a pushed module (UpdateWasmPlugin) changes them, and resolved by name for the routes'
// filter chains. Also what the workers lend the plugins (an HTTP caller, a way to post to them) and
// the counters behind vortex_wasm_calls_total. Control plane: thread-safe; applies are serialised
// by the ConfigApplier.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/admin/metrics_exposition.h"
#include "adapters/wasm/call_counters.h"
#include "adapters/wasm/plugin_runtime.h"
#include "adapters/wasm/shared_state.h"
#include "app/vortex/config_applier.h"
#include "app/vortex/upstream_http_caller.h"

namespace vx::app {

class Worker;

class WasmPlugins {
 public:
  // `workers` must outlive this and be started after prepare_first().
  explicit WasmPlugins(const std::vector<std::unique_ptr<Worker>>& workers);
  ~WasmPlugins();

  // The first config (check() passed), before the workers start: compiles its plugins; each
  // worker makes its own instance just before it accepts connections.
  core::Result<ConfigApplier::FilterSetup, std::vector<std::string>> prepare_first(
      const core::config::Config& config);
  // Every later apply (ConfigApplier::FilterStep): plugins whose module and settings did not
  // change keep running as they are; the others compile and start on every running worker
  // before the new snapshot serves. Refuses with every problem, each naming its plugin.
  core::Result<ConfigApplier::FilterSetup, std::vector<std::string>> prepare(
      const core::config::Config& config);

  // UpdateWasmPlugin: `bytes` is running plugin `name`'s module from the next apply on (which
  // the caller runs at once), through later reloads, until the plugin's file changes (the newer
  // of the two wins), its `file` key changes, or it is removed. Returns what restore() takes
  // back if that apply is refused; refuses a name no running plugin has.
  struct Push {
    std::string bytes;
    std::string file;  // the plugin's file when pushed, and its contents' hash then
    std::optional<size_t> file_hash;
  };
  using Pushes = std::map<std::string, Push, std::less<>>;
  core::Result<Pushes, std::string> push(std::string_view name, std::string bytes);
  void restore(Pushes previous);

  // After the workers joined, before the last snapshot is dropped: tasks for the workers run
  // at once on the calling thread (each instance is released here while its worker's
  // io_context still exists), and the running plugins are let go.
  void close();

  // `vortex check`: every plugin of `config` compiles and starts once on this thread (its
  // vm_start and configure succeed), as `run` would; the problems, one per plugin, by plugin.
  static std::vector<std::pair<const core::config::WasmPlugin*, std::string>> check(
      const core::config::Config& config);

  // For the metrics endpoint (any thread).
  std::vector<adapters::admin::WasmPluginCalls> calls() const;
  std::vector<adapters::admin::WasmPluginMetric> plugin_metrics() const;

 private:
  struct Running {
    std::string bytes;
    core::config::WasmPlugin settings;
    std::shared_ptr<adapters::wasm::PluginRuntime> runtime;
  };
  using Plugins = std::map<std::string, Running, std::less<>>;

  adapters::wasm::PluginEnvironment environment(unsigned worker);
  // The module bytes plugin `settings` uses now: a pushed module, else its file.
  core::Result<std::string, std::string> module_bytes(const core::config::WasmPlugin& settings);
  // Compiles the plugins of `config` that changed, keeping the rest as they run.
  core::Result<Plugins, std::vector<std::string>> compile(const core::config::Config& config);
  ConfigApplier::FilterSetup setup(std::shared_ptr<Plugins> plugins);
  std::shared_ptr<adapters::wasm::CallCounters> counters(const std::string& name);

  const std::vector<std::unique_ptr<Worker>>& workers_;
  std::shared_ptr<std::atomic<bool>> closed_ = std::make_shared<std::atomic<bool>>(false);
  adapters::wasm::SharedState shared_;
  std::vector<std::unique_ptr<UpstreamHttpCaller>> callers_;  // by worker

  mutable std::mutex mutex_;  // guards what follows (the metrics scrape reads it)
  Plugins running_;
  Pushes pushed_;
  std::map<std::string, std::shared_ptr<adapters::wasm::CallCounters>> counters_;
};

}  // namespace vx::app
