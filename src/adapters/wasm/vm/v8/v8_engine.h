// V8Engine: the WasmEngine over V8 10.2 from Debian's libnode108 (docs/wasm.md: how it is
// installed, and the header and build-flag pitfalls). One per process: V8 is initialised once
// and never torn down. Modules compile on a compiler isolate guarded by a mutex (control plane);
// each thread that instantiates gets an isolate of its own, used by that thread only. A
// watchdog thread stops a call that runs past its instance's max_call (TerminateExecution,
// with a handshake so the stop can never land on the next call).
#pragma once

#include <memory>

#include "adapters/wasm/vm/wasm_vm.h"

namespace vx::adapters::wasm {

// The process's V8 engine, initialised on first use (any thread).
WasmEngine& v8_engine();

}  // namespace vx::adapters::wasm
