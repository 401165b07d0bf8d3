#include "adapters/wasm/vm/v8/sequence_module.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace vx::adapters::wasm {

namespace {

// Binary format constants (WebAssembly core specification, §5).
constexpr uint8_t kTypeSection = 1, kImportSection = 2, kFunctionSection = 3, kExportSection = 7,
                  kCodeSection = 10;
constexpr uint8_t kFuncType = 0x60, kFuncKind = 0x00, kI32 = 0x7f, kI64 = 0x7e;
constexpr uint8_t kLocalGet = 0x20, kCall = 0x10, kDrop = 0x1a, kEnd = 0x0b;

void leb(std::string& out, uint32_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    if (value != 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (value != 0);
}

void name(std::string& out, std::string_view s) {
  leb(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

void section(std::string& module, uint8_t id, const std::string& body) {
  module.push_back(static_cast<char>(id));
  leb(module, static_cast<uint32_t>(body.size()));
  module.append(body);
}

char type_byte(ValueType t) {
  return static_cast<char>(t == ValueType::I64 ? kI64 : kI32);
}

void func_type(std::string& out, std::span<const ValueType> params,
               std::optional<ValueType> result) {
  out.push_back(static_cast<char>(kFuncType));
  leb(out, static_cast<uint32_t>(params.size()));
  for (ValueType p : params) out.push_back(type_byte(p));
  leb(out, result ? 1 : 0);
  if (result) out.push_back(type_byte(*result));
}

}  // namespace

std::string sequence_module(std::span<const Signature> parts) {
  const auto n = static_cast<uint32_t>(parts.size());
  std::vector<ValueType> all_params;
  for (const auto& part : parts) {
    all_params.insert(all_params.end(), part.params.begin(), part.params.end());
  }

  std::string types;  // one type per part, then run's
  leb(types, n + 1);
  for (const auto& part : parts) func_type(types, part.params, part.result);
  func_type(types, all_params, parts.back().result);

  std::string imports;
  leb(imports, n);
  for (uint32_t i = 0; i < n; ++i) {
    name(imports, "seq");
    name(imports, std::to_string(i));
    imports.push_back(static_cast<char>(kFuncKind));
    leb(imports, i);
  }

  std::string functions;
  leb(functions, 1);
  leb(functions, n);  // run's type

  std::string exports;
  leb(exports, 1);
  name(exports, "run");
  exports.push_back(static_cast<char>(kFuncKind));
  leb(exports, n);  // imported functions come first in the index space

  std::string body;
  leb(body, 0);  // no locals besides the parameters
  uint32_t local = 0;
  for (uint32_t i = 0; i < n; ++i) {
    for (size_t p = 0; p < parts[i].params.size(); ++p) {
      body.push_back(static_cast<char>(kLocalGet));
      leb(body, local++);
    }
    body.push_back(static_cast<char>(kCall));
    leb(body, i);
    if (parts[i].result && i + 1 < n) body.push_back(static_cast<char>(kDrop));
  }
  body.push_back(static_cast<char>(kEnd));
  std::string code;
  leb(code, 1);
  leb(code, static_cast<uint32_t>(body.size()));
  code.append(body);

  std::string module("\0asm\1\0\0\0", 8);
  section(module, kTypeSection, types);
  section(module, kImportSection, imports);
  section(module, kFunctionSection, functions);
  section(module, kExportSection, exports);
  section(module, kCodeSection, code);
  return module;
}

}  // namespace vx::adapters::wasm
