// The bytes of a test guest built by tests/wasm into VORTEX_TEST_WASM_DIR ("" when missing).
#pragma once

#include <fstream>
#include <iterator>
#include <string>

namespace vx::testing {

inline std::string wasm_guest(const std::string& name) {
  std::ifstream in(std::string(VORTEX_TEST_WASM_DIR) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace vx::testing
