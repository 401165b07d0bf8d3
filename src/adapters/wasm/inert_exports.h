// The exported functions of a Wasm module that provably do nothing: their body declares no
// locals and is only `end`, or `i32.const k; end` (what a C hook written empty, or returning a
// constant, compiles to). Calling one into V8 costs about 1 200 instructions and can have no
// effect the guest could see. The host leaves out the stream lifecycle callbacks found here
// (context create, done, log, delete: it uses none of their results), as if not exported.
//
// Read from the module's bytes after an engine compiled them; bytes it cannot follow give no
// inert export (never a wrong one).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vx::adapters::wasm {

// Their names.
std::vector<std::string> inert_exports(std::string_view module_bytes);

}  // namespace vx::adapters::wasm
