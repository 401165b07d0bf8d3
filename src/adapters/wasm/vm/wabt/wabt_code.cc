// Compiled as C++17: WABT 1.0.32's interp-inl.h is not valid C++20 (a template-id destructor).
#include "adapters/wasm/vm/wabt/wabt_code.h"

#include <wabt/binary-reader.h>
#include <wabt/error-formatter.h>
#include <wabt/interp/binary-reader-interp.h>
#include <wabt/interp/interp.h>

namespace vx::adapters::wasm {

namespace {

namespace interp = ::wabt::interp;

WabtType type_of(::wabt::Type type) {
  if (type == ::wabt::Type::I32) return WabtType::I32;
  if (type == ::wabt::Type::I64) return WabtType::I64;
  return WabtType::Other;
}

WabtFuncType func_type_of(const interp::ExternType& type) {
  WabtFuncType out;
  const auto* func = ::wabt::dyn_cast<interp::FuncType>(&type);
  if (!func) return out;
  for (const auto t : func->params) out.params.push_back(type_of(t));
  for (const auto t : func->results) out.results.push_back(type_of(t));
  return out;
}

}  // namespace

WabtCode::~WabtCode() = default;

std::shared_ptr<const WabtCode> WabtCode::read(std::string_view bytes, std::string* error) {
  std::shared_ptr<WabtCode> code(new WabtCode);
  code->desc_ = std::make_unique<interp::ModuleDesc>();
  ::wabt::Errors errors;
  // Custom sections are names and metadata: a malformed one does not make the code invalid
  // (V8 ignores them too).
  const ::wabt::ReadBinaryOptions options(::wabt::Features{}, nullptr, /*read_debug_names=*/false,
                                          /*stop_on_first_error=*/true,
                                          /*fail_on_custom_section_error=*/false);
  if (::wabt::Failed(interp::ReadBinaryInterp("module.wasm", bytes.data(), bytes.size(), options,
                                              &errors, code->desc_.get()))) {
    *error = ::wabt::FormatErrorsToString(errors, ::wabt::Location::Type::Binary);
    while (!error->empty() && error->back() == '\n') error->pop_back();
    if (error->empty()) *error = "not a valid Wasm module";
    return nullptr;
  }
  for (const auto& import : code->desc_->imports) {
    const interp::ImportType& type = import.type;
    code->imports_.push_back({type.module, type.name, type.type->kind == ::wabt::ExternalKind::Func,
                              func_type_of(*type.type)});
  }
  for (const auto& e : code->desc_->exports) {
    const interp::ExportType& type = e.type;
    code->exports_.push_back(
        {"", type.name, type.type->kind == ::wabt::ExternalKind::Func, func_type_of(*type.type)});
  }
  return code;
}

}  // namespace vx::adapters::wasm
