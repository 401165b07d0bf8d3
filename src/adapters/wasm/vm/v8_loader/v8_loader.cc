#include "adapters/wasm/vm/v8_loader/v8_loader.h"

#include <dlfcn.h>

#include <filesystem>
#include <system_error>
#include <vector>

namespace vx::adapters::wasm {

namespace {

constexpr const char* kLibrary = "libvortex_wasm_v8.so";
constexpr const char* kEntry = "vortex_wasm_v8_engine";

core::Result<WasmEngine*, std::string> load() {
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
    return core::unexpected("wasm runtime v8: cannot find the executable's folder: " +
                            error.message());
  const std::vector<std::filesystem::path> candidates = {
      exe.parent_path() / kLibrary, exe.parent_path() / ".." / "lib" / "vortex" / kLibrary};
  std::string tried;
  for (const auto& path : candidates) {
    if (!std::filesystem::exists(path, error)) {
      tried += (tried.empty() ? "" : ", ") + path.lexically_normal().string();
      continue;
    }
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr)
      return core::unexpected("wasm runtime v8: cannot load " + path.string() + ": " + dlerror());
    // Never dlclose()d: V8 cannot be initialised twice, and its threads outlive any caller.
    using Entry = WasmEngine* (*)();
    const auto entry = reinterpret_cast<Entry>(dlsym(library, kEntry));
    if (entry == nullptr)
      return core::unexpected("wasm runtime v8: " + path.string() + " has no " + kEntry);
    return entry();
  }
  return core::unexpected("wasm runtime v8: " + std::string(kLibrary) + " not found (looked at " +
                          tried + ")");
}

}  // namespace

core::Result<WasmEngine*, std::string> load_v8_engine() {
  static const core::Result<WasmEngine*, std::string> engine = load();
  return engine;
}

}  // namespace vx::adapters::wasm
