// WabtCode: a module decoded and validated into the code WABT's interpreter runs (its
// ModuleDesc), with its imports and exports described in plain types. Immutable once read and
// shared by every thread's instances. This header is part of the wall around WABT: it names no
// WABT type beyond a forward declaration, because WABT 1.0.32's headers only compile as C++17
// (wabt_code.cc and wabt_machine.cc are built so) while the port side is C++20.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wabt::interp {
struct ModuleDesc;
}

namespace vx::adapters::wasm {

// A Wasm value type as far as the port cares: Other is f32, f64, v128 or a reference.
enum class WabtType : uint8_t { I32, I64, Other };

struct WabtFuncType {
  std::vector<WabtType> params;
  std::vector<WabtType> results;
};

// One import or export.
struct WabtExtern {
  std::string module;  // imports only
  std::string name;
  bool function = false;  // false: a memory, table, global or tag
  WabtFuncType type;      // functions only
};

class WabtCode {
 public:
  // Decodes and validates `bytes` with WABT's default features (the MVP plus sign extension,
  // saturating conversions, multi-value, bulk memory, reference types and SIMD). Null, with
  // WABT's messages in `error`, when they are not a valid module. Any thread.
  static std::shared_ptr<const WabtCode> read(std::string_view bytes, std::string* error);
  ~WabtCode();

  const std::vector<WabtExtern>& imports() const { return imports_; }
  // In the module's export order: an export's index here is its index in the instance.
  const std::vector<WabtExtern>& exports() const { return exports_; }
  const wabt::interp::ModuleDesc& desc() const { return *desc_; }

 private:
  WabtCode() = default;

  std::unique_ptr<wabt::interp::ModuleDesc> desc_;
  std::vector<WabtExtern> imports_;
  std::vector<WabtExtern> exports_;
};

}  // namespace vx::adapters::wasm
