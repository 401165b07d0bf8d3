// load_v8_engine: the V8 engine, from its own shared library (libvortex_wasm_v8.so) loaded the
// first time a config names a plugin on V8. Linking libnode into the binary made every start of
// vortex pay for it, plugins or not: libnode is built with BIND_NOW and ~60 000 symbol
// relocations, ~100 M instructions of dynamic linking (93 % of `vortex check` on a small config).
#pragma once

#include <string>

#include "adapters/wasm/vm/wasm_vm.h"
#include "core/result.h"

namespace vx::adapters::wasm {

// The library is looked for beside the executable, then in ../lib/vortex (an installed tree).
// Loaded once per process; a failure (missing file, unresolved libnode) is remembered and said the
// same way each time. Any thread.
core::Result<WasmEngine*, std::string> load_v8_engine();

}  // namespace vx::adapters::wasm
