// WabtMachine: one instantiation of a WabtCode in WABT's interpreter, with a Store and a Thread
// of its own, so that dropping it frees everything it made (WABT collects garbage only when
// asked; nothing here asks). Used by one thread only. Calls run in slices of instructions, with
// the deadline and the memory cap checked between slices. Part of the wall around WABT (see
// wabt_code.h): no WABT type appears here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapters/wasm/vm/wabt/wabt_code.h"

namespace vx::adapters::wasm {

class WabtMachine {
 public:
  enum class Outcome : uint8_t { Ok, Trap, Timeout };

  // The host function bound to one import: called with the arguments as raw 64-bit slots (an
  // i32 in the low half), returning the raw result (ignored when the import has none).
  struct Binding {
    uint64_t (*callback)(void* host, const uint64_t* args) = nullptr;
    void* host = nullptr;
  };
  static constexpr size_t kMaxHostParams = 16;

  struct Limits {
    std::chrono::nanoseconds max_call;  // one outermost call, host calls and re-entries included
    uint32_t max_memory_pages;          // past this the guest is stopped like a trap
  };

  virtual ~WabtMachine() = default;

  // Instantiates `code` and runs its start functions (under max_call). REQUIRES: one binding per
  // import, in import order; every import a function of at most kMaxHostParams i32/i64
  // parameters and at most one result (the port side checks and names the culprit). Refuses,
  // with why, a memory that starts over the cap, a module that exports no memory, and a start
  // function that traps or runs past max_call.
  static std::unique_ptr<WabtMachine> create(std::shared_ptr<const WabtCode> code,
                                             std::vector<Binding> bindings, Limits limits,
                                             std::string* error);

  // Calls function export `export_index` (an index into code.exports()) with one raw argument
  // per parameter; `result` receives the raw result when the function has one and the call is
  // Ok. A host function may call back in (the deadline is the outermost call's). After a Trap or
  // a Timeout, anywhere in the nesting, every call up to the outermost returns it and the
  // machine must be dropped.
  virtual Outcome call(size_t export_index, const uint64_t* args, uint64_t* result) = 0;

  // The exported linear memory (the first one), valid until the next call into the guest.
  virtual uint8_t* memory_data() = 0;
  virtual size_t memory_size() const = 0;

  // WABT's message for the last trap ("unreachable executed", "call stack exhausted", ...).
  virtual const std::string& last_trap() const = 0;
};

}  // namespace vx::adapters::wasm
