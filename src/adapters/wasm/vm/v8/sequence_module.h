// A Wasm module that calls several functions of another instance as one: it imports them as
// "seq"."0", "seq"."1", ... and exports "run", which takes every function's parameters one
// after the other, calls the functions in order, drops the results of all but the last and
// returns the last one's. An engine whose entry into the guest costs far more than a call
// inside it (V8's, through its JavaScript API) makes one entry where the host would make
// several; the calls between instances stay inside Wasm.
#pragma once

#include <span>
#include <string>

#include "adapters/wasm/vm/wasm_vm.h"

namespace vx::adapters::wasm {

// The module's bytes, for `parts` (at least one; their signatures as the host calls them).
std::string sequence_module(std::span<const Signature> parts);

}  // namespace vx::adapters::wasm
