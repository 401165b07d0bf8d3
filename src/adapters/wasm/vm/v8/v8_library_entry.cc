// The one C symbol of libvortex_wasm_v8.so that v8_loader looks up: a C name, so the loader
// needs no mangled C++ name and the two sides agree on one plain function type.
#include "adapters/wasm/vm/v8/v8_engine.h"

extern "C" vx::adapters::wasm::WasmEngine* vortex_wasm_v8_engine() {
  return &vx::adapters::wasm::v8_engine();
}
