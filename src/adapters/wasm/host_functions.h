// Every function a Proxy-Wasm guest may import (../shared/proxy-wasm-abi.md §2 and §8): the
// proxy_* set of ABI 0.1.0 to 0.2.1 from `env`, WASI preview1 under both wasi_snapshot_preview1
// and wasi_unstable, and the emscripten extras. Each runs on the instance's thread with the
// PluginInstance as its host; none throws.
#pragma once

#include <span>
#include <string_view>

#include "adapters/wasm/vm/wasm_vm.h"

namespace vx::adapters::wasm {

std::span<const HostFunction> host_functions();

// Whether the host function `module`.`name` reads a header map or a property: a guest that
// imports none of these cannot see a stream's response head.
bool reads_headers(std::string_view module, std::string_view name);

}  // namespace vx::adapters::wasm
