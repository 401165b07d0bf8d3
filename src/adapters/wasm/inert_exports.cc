#include "adapters/wasm/inert_exports.h"

#include <map>
#include <optional>

namespace vx::adapters::wasm {

namespace {

// Binary format (WebAssembly core specification, §5).
constexpr uint8_t kImportSection = 2, kExportSection = 7, kCodeSection = 10;
constexpr uint8_t kFuncKind = 0x00, kTableKind = 0x01, kMemoryKind = 0x02, kGlobalKind = 0x03;
constexpr uint8_t kI32Const = 0x41, kEnd = 0x0b;

// Reads forward through bytes; any read past the end, or an encoding it does not follow,
// leaves it failed and every later read answers 0.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : at_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool failed() const { return failed_; }
  bool done() const { return at_ == end_; }

  uint8_t byte() {
    if (at_ == end_) return fail();
    return static_cast<uint8_t>(*at_++);
  }
  uint32_t u32() {  // unsigned LEB128, at most 5 bytes
    uint32_t value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      const uint8_t b = byte();
      value |= static_cast<uint32_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return value;
    }
    return fail();
  }
  int32_t s32() {  // signed LEB128, at most 5 bytes
    uint32_t value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      const uint8_t b = byte();
      value |= static_cast<uint32_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        if (shift + 7 < 32 && (b & 0x40)) value |= ~uint32_t{0} << (shift + 7);
        return static_cast<int32_t>(value);
      }
    }
    return fail();
  }
  std::string_view bytes(uint32_t n) {
    if (static_cast<size_t>(end_ - at_) < n) {
      fail();
      return {};
    }
    const std::string_view out(at_, n);
    at_ += n;
    return out;
  }
  std::string_view name() { return bytes(u32()); }
  void limits() {
    const uint8_t flags = byte();
    u32();
    if (flags & 1) u32();  // a maximum follows
  }

 private:
  uint8_t fail() {
    failed_ = true;
    at_ = end_;
    return 0;
  }
  const char* at_;
  const char* end_;
  bool failed_ = false;
};

// How many functions the module imports: the code section's bodies are numbered after them.
std::optional<uint32_t> function_imports(std::string_view section) {
  Reader r(section);
  uint32_t functions = 0;
  for (uint32_t n = r.u32(); n > 0 && !r.failed(); --n) {
    r.name();
    r.name();
    switch (r.byte()) {
      case kFuncKind:
        r.u32();
        ++functions;
        break;
      case kTableKind:
        r.byte();
        r.limits();
        break;
      case kMemoryKind:
        r.limits();
        break;
      case kGlobalKind:
        r.byte();
        r.byte();
        break;
      default:
        return std::nullopt;
    }
  }
  if (r.failed()) return std::nullopt;
  return functions;
}

bool does_nothing(std::string_view body) {
  Reader r(body);
  if (r.u32() != 0) return false;  // declares locals
  uint8_t op = r.byte();
  if (op == kI32Const) {
    r.s32();
    op = r.byte();
  }
  return op == kEnd && r.done() && !r.failed();
}

}  // namespace

std::vector<std::string> inert_exports(std::string_view module_bytes) {
  Reader module(module_bytes);
  if (module.bytes(8) != std::string_view("\0asm\1\0\0\0", 8)) return {};
  uint32_t imported = 0;
  std::map<uint32_t, std::vector<std::string_view>> exported;  // function index -> names
  std::vector<std::string> inert;
  while (!module.done() && !module.failed()) {
    const uint8_t id = module.byte();
    const std::string_view section = module.bytes(module.u32());
    if (module.failed()) return {};
    Reader r(section);
    if (id == kImportSection) {
      const auto functions = function_imports(section);
      if (!functions) return {};
      imported = *functions;
    } else if (id == kExportSection) {
      for (uint32_t n = r.u32(); n > 0 && !r.failed(); --n) {
        const std::string_view name = r.name();
        const uint8_t kind = r.byte();
        const uint32_t index = r.u32();
        if (kind == kFuncKind) exported[index].push_back(name);
      }
    } else if (id == kCodeSection) {  // after the import and export sections (§5.5.2)
      const uint32_t bodies = r.u32();
      for (uint32_t i = 0; i < bodies && !r.failed(); ++i) {
        const std::string_view body = r.bytes(r.u32());
        const auto names = exported.find(imported + i);
        if (names == exported.end()) continue;
        if (!does_nothing(body)) continue;
        for (const auto name : names->second) inert.emplace_back(name);
      }
    }
    if (r.failed()) return {};
  }
  if (module.failed()) return {};
  return inert;
}

}  // namespace vx::adapters::wasm
