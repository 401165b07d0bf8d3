#include "adapters/wasm/abi.h"

namespace vx::adapters::wasm {

std::optional<AbiVersion> abi_version_from_export(std::string_view name) {
  if (name == "proxy_abi_version_0_1_0") return AbiVersion::V0_1_0;
  if (name == "proxy_abi_version_0_2_0") return AbiVersion::V0_2_0;
  if (name == "proxy_abi_version_0_2_1" || name == "proxy_abi_version_0_x_x") {
    return AbiVersion::V0_2_1;
  }
  return std::nullopt;
}

std::string_view to_string(AbiVersion version) {
  switch (version) {
    case AbiVersion::V0_1_0:
      return "0.1.0";
    case AbiVersion::V0_2_0:
      return "0.2.0";
    case AbiVersion::V0_2_1:
      return "0.2.1";
  }
  return "?";
}

}  // namespace vx::adapters::wasm
