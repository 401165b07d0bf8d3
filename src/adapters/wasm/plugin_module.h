// PluginModule: one configured Wasm plugin (SPEC.md §2 wasm.plugins[]) compiled and checked:
// which ABI it speaks, its configuration, its limits. Made on the control plane (start, reload,
// UpdateWasmPlugin); immutable afterwards and shared by every worker's instance of it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "adapters/wasm/abi.h"
#include "adapters/wasm/inert_exports.h"
#include "adapters/wasm/vm/wasm_vm.h"
#include "core/config/config.h"
#include "core/result.h"

namespace vx::adapters::wasm {

class PluginModule {
 public:
  // Compiles `bytes` with `engine` and checks it can run as `config` says: a proxy_wasm module
  // must export a proxy_abi_version_* marker, proxy_on_memory_allocate (or malloc) and memory;
  // an execute module must export `execute`. Refuses with every problem found, each naming the
  // plugin. `bytes` may come from the file the config names or from an UpdateWasmPlugin push.
  static core::Result<std::shared_ptr<const PluginModule>, std::vector<std::string>> create(
      const core::config::WasmPlugin& config, std::string_view bytes, WasmEngine& engine);

  const std::string& name() const { return name_; }
  core::config::WasmAbi abi() const { return abi_; }
  AbiVersion version() const { return version_; }  // proxy_wasm only
  const std::string& configuration() const { return configuration_; }
  bool fail_open() const { return fail_open_; }
  std::chrono::milliseconds max_call() const { return max_call_; }
  const WasmModule& module() const { return *module_; }
  WasmEngine& engine() const { return engine_; }
  // The guest exports `name` (a callback it wants, or a marker).
  bool exports(std::string_view name) const { return module_->exports(name); }
  // The guest exports `name` and its body may do something: false for a function that provably
  // does nothing (inert_exports.h), which the host need not call.
  bool does_something(std::string_view name) const;

 private:
  PluginModule(WasmEngine& engine) : engine_(engine) {}

  std::string name_;
  core::config::WasmAbi abi_ = core::config::WasmAbi::ProxyWasm;
  AbiVersion version_ = AbiVersion::V0_2_1;
  std::string configuration_;
  bool fail_open_ = false;
  std::chrono::milliseconds max_call_{50};
  std::shared_ptr<const WasmModule> module_;
  std::vector<std::string> inert_;  // inert_exports()
  WasmEngine& engine_;
};

}  // namespace vx::adapters::wasm
