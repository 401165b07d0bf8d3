#include "adapters/wasm/vm/wabt/wabt_engine.h"

#include <string>
#include <utility>

#include "adapters/wasm/vm/wabt/wabt_code.h"
#include "adapters/wasm/vm/wabt/wabt_machine.h"

namespace vx::adapters::wasm {

namespace {

bool same(ValueType port, WabtType wabt) {
  return (port == ValueType::I32 && wabt == WabtType::I32) ||
         (port == ValueType::I64 && wabt == WabtType::I64);
}

bool same(const std::vector<ValueType>& params, std::optional<ValueType> result,
          const WabtFuncType& type) {
  if (params.size() != type.params.size()) return false;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!same(params[i], type.params[i])) return false;
  }
  if (!result) return type.results.empty();
  return type.results.size() == 1 && same(*result, type.results[0]);
}

const char* name_of(WabtType type) {
  switch (type) {
    case WabtType::I32:
      return "i32";
    case WabtType::I64:
      return "i64";
    case WabtType::Other:
      break;
  }
  return "non-integer";
}

// "(i32, i32) -> i32", as the error messages show a signature.
std::string describe(const WabtFuncType& type) {
  std::string out = "(";
  for (size_t i = 0; i < type.params.size(); ++i) {
    out += (i ? ", " : "") + std::string(name_of(type.params[i]));
  }
  out += ") -> ";
  if (type.results.empty()) return out + "()";
  for (size_t i = 0; i < type.results.size(); ++i) {
    out += (i ? ", " : "") + std::string(name_of(type.results[i]));
  }
  return out;
}
std::string describe(const HostFunction& f) {
  WabtFuncType type;
  for (const auto p : f.params) {
    type.params.push_back(p == ValueType::I64 ? WabtType::I64 : WabtType::I32);
  }
  if (f.result) type.results.push_back(*f.result == ValueType::I64 ? WabtType::I64 : WabtType::I32);
  return describe(type);
}

class WabtModule final : public WasmModule {
 public:
  explicit WabtModule(std::shared_ptr<const WabtCode> code) : code_(std::move(code)) {
    for (const auto& i : code_->imports()) imports_.push_back({i.module, i.name, i.function});
    for (const auto& e : code_->exports()) {
      if (e.function) exports_.push_back(e.name);
    }
  }
  const std::vector<Import>& imports() const override { return imports_; }
  const std::vector<std::string>& function_exports() const override { return exports_; }
  const std::shared_ptr<const WabtCode>& code() const { return code_; }

 private:
  std::shared_ptr<const WabtCode> code_;
  std::vector<Import> imports_;
  std::vector<std::string> exports_;
};

// A Function handle is (export index << 1) | 1 when the host asked for another signature than
// the export's: calling it is a trap, never a misread value.
class WabtInstance final : public WasmInstance {
 public:
  WabtInstance(std::shared_ptr<const WabtCode> code, std::unique_ptr<WabtMachine> machine)
      : code_(std::move(code)), machine_(std::move(machine)) {}

  std::optional<Function> function(std::string_view name, Signature signature) override {
    const auto& exports = code_->exports();
    for (size_t i = 0; i < exports.size(); ++i) {
      if (!exports[i].function || exports[i].name != name) continue;
      const bool mismatch = !same(signature.params, signature.result, exports[i].type);
      return static_cast<Function>(i << 1 | (mismatch ? 1 : 0));
    }
    return std::nullopt;
  }

  CallStatus call(Function fn, std::span<const uint64_t> args, uint64_t* result) override {
    const size_t index = fn >> 1;
    if ((fn & 1) || index >= code_->exports().size() ||
        args.size() != code_->exports()[index].type.params.size()) {
      return CallStatus::Trap;
    }
    switch (machine_->call(index, args.data(), result)) {
      case WabtMachine::Outcome::Ok:
        return CallStatus::Ok;
      case WabtMachine::Outcome::Timeout:
        return CallStatus::Timeout;
      case WabtMachine::Outcome::Trap:
        break;
    }
    return CallStatus::Trap;
  }

  std::span<uint8_t> memory() override {
    return {machine_->memory_data(), machine_->memory_size()};
  }

 private:
  std::shared_ptr<const WabtCode> code_;
  std::unique_ptr<WabtMachine> machine_;
};

class WabtEngine final : public WasmEngine {
 public:
  std::string_view name() const override { return "wabt"; }

  core::Result<std::shared_ptr<const WasmModule>, std::string> compile(
      std::string_view bytes) override {
    std::string error;
    auto code = WabtCode::read(bytes, &error);
    if (!code) return core::unexpected(std::move(error));
    return std::shared_ptr<const WasmModule>(std::make_shared<WabtModule>(std::move(code)));
  }

  core::Result<std::unique_ptr<WasmInstance>, std::string> instantiate(
      const WasmModule& module, std::span<const HostFunction> functions, void* host,
      InstanceLimits limits) override {
    const auto* wabt_module = dynamic_cast<const WabtModule*>(&module);
    if (!wabt_module) return core::unexpected(std::string("module compiled by another engine"));
    const auto& code = wabt_module->code();
    std::vector<WabtMachine::Binding> bindings;
    bindings.reserve(code->imports().size());
    for (const auto& import : code->imports()) {
      const std::string what = import.module + "." + import.name;
      if (!import.function) {
        return core::unexpected("imports a " + what + " that is not a function (not supported)");
      }
      const HostFunction* found = nullptr;
      for (const auto& f : functions) {
        if (f.module == import.module && f.name == import.name) found = &f;
      }
      if (!found) return core::unexpected("imports " + what + ", which this host does not provide");
      if (!same(found->params, found->result, import.type) ||
          found->params.size() > WabtMachine::kMaxHostParams) {
        return core::unexpected("imports " + what + " as " + describe(import.type) +
                                ", which this host provides as " + describe(*found));
      }
      bindings.push_back({found->callback, host});
    }
    std::string error;
    auto machine = WabtMachine::create(code, std::move(bindings),
                                       {limits.max_call, limits.max_memory_pages}, &error);
    if (!machine) return core::unexpected(std::move(error));
    return std::unique_ptr<WasmInstance>(std::make_unique<WabtInstance>(code, std::move(machine)));
  }
};

}  // namespace

WasmEngine& wabt_engine() {
  static WabtEngine engine;
  return engine;
}

}  // namespace vx::adapters::wasm
