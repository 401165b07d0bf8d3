// The Wasm engine port: compile a module once per process, instantiate it on each worker, call
// its exports and read its memory, with imports served by host functions. The Proxy-Wasm host
// (adapters/wasm/) is written against this alone, so an engine is one implementation of it
// (vm/v8/ today; WABT's interpreter could be another) and no engine type reaches the ABI code.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vx::adapters::wasm {

enum class ValueType : uint8_t { I32, I64 };

// A function's signature as the host expects it: a guest export called with another one is a
// trap, never a misread value.
struct Signature {
  std::vector<ValueType> params;
  std::optional<ValueType> result;
};

// One function a guest may import. The engine calls `callback(host, args)` on the instance's
// thread, with the arguments as raw 64-bit slots (an i32 in the low half); the return value is
// the result (ignored without one). A callback never throws; it may call back into the guest
// (memory allocation) through the instance the host keeps.
struct HostFunction {
  std::string_view module;  // "env", "wasi_snapshot_preview1", ...
  std::string_view name;
  std::vector<ValueType> params;
  std::optional<ValueType> result;
  uint64_t (*callback)(void* host, const uint64_t* args) = nullptr;
};

// A compiled module: immutable, shared by every worker's instance of it; any thread.
class WasmModule {
 public:
  struct Import {
    std::string module;
    std::string name;
    bool function = true;  // false: a memory, table or global import
  };
  virtual ~WasmModule() = default;
  virtual const std::vector<Import>& imports() const = 0;
  // The names of the exported functions.
  virtual const std::vector<std::string>& function_exports() const = 0;
  bool exports(std::string_view name) const {
    for (const auto& e : function_exports()) {
      if (e == name) return true;
    }
    return false;
  }
};

enum class CallStatus : uint8_t {
  Ok,
  Trap,     // the guest trapped (unreachable, out-of-bounds, stack overflow, a failed grow...)
  Timeout,  // the call ran past the instance's max_call and was stopped
};

struct InstanceLimits {
  // The most any instance may use (64 KiB pages: 128 MiB). Real plugins use a few MiB.
  static constexpr uint32_t kMaxMemoryPages = 2048;
  std::chrono::milliseconds max_call{50};  // one call into the guest, host calls included
  // A guest whose memory grows past this many pages is stopped like a trap.
  uint32_t max_memory_pages = kMaxMemoryPages;
};

// One instantiation of a module, used by the thread that made it and no other. After a Trap
// or a Timeout the instance must not be called again (its state is unknown): make a new one.
class WasmInstance {
 public:
  using Function = uint32_t;  // a handle to an exported function
  virtual ~WasmInstance() = default;

  // The handle of exported function `name`, to be called with `signature`, or nullopt.
  virtual std::optional<Function> function(std::string_view name, Signature signature) = 0;
  // Calls `fn` with raw arguments (an i32 in the low half); `result` receives the raw result
  // when the function has one and the call is Ok. Never throws.
  virtual CallStatus call(Function fn, std::span<const uint64_t> args, uint64_t* result) = 0;
  // The guest's linear memory, valid until the next call into the guest (growing moves it).
  virtual std::span<uint8_t> memory() = 0;
  // One function that calls `fns` (handles from function()) in order: its arguments are theirs
  // one after the other, its result the last one's; it stops at the first that traps. For an
  // engine whose entry into the guest costs far more than a call inside it; nullopt where the
  // engine has nothing cheaper than calling them one by one (the caller then does).
  virtual std::optional<Function> sequence(std::span<const Function> fns) {
    (void)fns;
    return std::nullopt;
  }
};

class WasmEngine {
 public:
  virtual ~WasmEngine() = default;
  virtual std::string_view name() const = 0;
  // Validates and compiles `bytes`; refuses with the engine's message. Any thread.
  virtual core::Result<std::shared_ptr<const WasmModule>, std::string> compile(
      std::string_view bytes) = 0;
  // Instantiates `module` for the calling thread: every function import must be in `functions`
  // (the refusal names the first that is not), a memory must be exported, and start functions
  // (the Wasm `start` section) run here. `host` is handed to every callback.
  virtual core::Result<std::unique_ptr<WasmInstance>, std::string> instantiate(
      const WasmModule& module, std::span<const HostFunction> functions, void* host,
      InstanceLimits limits) = 0;
};

}  // namespace vx::adapters::wasm
