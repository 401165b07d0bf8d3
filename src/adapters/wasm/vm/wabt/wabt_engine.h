// WabtEngine: the WasmEngine over WABT 1.0.32's interpreter (Debian's `wabt` package: headers,
// libwabt.a), the small fallback to V8 with no JIT and no dependency beyond itself. Stateless:
// compiling is decoding and validating into WABT's code (wabt_code.h), any thread; each instance
// has a store and an interpreter thread of its own (wabt_machine.h), used by the thread that
// made it. A call past max_call is stopped between two slices of instructions, by the calling
// thread itself: no watchdog.
#pragma once

#include "adapters/wasm/vm/wasm_vm.h"

namespace vx::adapters::wasm {

// The process's WABT engine (any thread).
WasmEngine& wabt_engine();

}  // namespace vx::adapters::wasm
