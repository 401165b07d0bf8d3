#include "adapters/wasm/plugin_module.h"

#include <algorithm>

namespace vx::adapters::wasm {

core::Result<std::shared_ptr<const PluginModule>, std::vector<std::string>> PluginModule::create(
    const core::config::WasmPlugin& config, std::string_view bytes, WasmEngine& engine) {
  const std::string who = "wasm plugin '" + config.name + "'";
  auto compiled = engine.compile(bytes);
  if (!compiled) {
    return core::unexpected(
        std::vector<std::string>{who + ": does not compile: " + compiled.error()});
  }
  std::shared_ptr<PluginModule> plugin(new PluginModule(engine));
  plugin->name_ = config.name;
  plugin->abi_ = config.abi;
  plugin->configuration_ = config.config;
  plugin->fail_open_ = config.fail_open;
  plugin->max_call_ = config.max_call;
  plugin->module_ = std::move(*compiled);
  plugin->inert_ = inert_exports(bytes);

  std::vector<std::string> errors;
  const WasmModule& module = *plugin->module_;
  if (config.abi == core::config::WasmAbi::Execute) {
    if (!module.exports("execute")) {
      errors.push_back(who + ": abi execute needs an exported function 'execute'");
    }
  } else {
    std::optional<AbiVersion> version;
    for (const auto& name : module.function_exports()) {
      if (auto v = abi_version_from_export(name)) version = v;
    }
    if (!version) {
      errors.push_back(who +
                       ": exports no proxy_abi_version_* marker (supported: 0.1.0, 0.2.0, 0.2.1)");
    } else {
      plugin->version_ = *version;
    }
    if (!module.exports("proxy_on_memory_allocate") && !module.exports("malloc")) {
      errors.push_back(who + ": exports neither proxy_on_memory_allocate nor malloc");
    }
  }
  for (const auto& import : module.imports()) {
    if (!import.function) {
      errors.push_back(who + ": imports " + import.module + "." + import.name +
                       ", which is not a function (not supported)");
    }
  }
  if (!errors.empty()) return core::unexpected(std::move(errors));
  return std::shared_ptr<const PluginModule>(std::move(plugin));
}

bool PluginModule::does_something(std::string_view name) const {
  if (!exports(name)) return false;
  return std::find(inert_.begin(), inert_.end(), name) == inert_.end();
}

}  // namespace vx::adapters::wasm
