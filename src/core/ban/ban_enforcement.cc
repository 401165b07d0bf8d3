#include "core/ban/ban_enforcement.h"

namespace vx::core::ban {

std::span<const Enforcement> xdp_attach_plan(config::XdpMode mode) {
  static constexpr Enforcement kAuto[] = {Enforcement::XdpNative, Enforcement::XdpGeneric};
  switch (mode) {
    case config::XdpMode::Native:
      return {kAuto, 1};
    case config::XdpMode::Generic:
      return {kAuto + 1, 1};
    case config::XdpMode::Auto:
      break;
  }
  return kAuto;
}

std::string_view enforcement_name(Enforcement enforcement) {
  switch (enforcement) {
    case Enforcement::XdpNative:
      return "xdp_native";
    case Enforcement::XdpGeneric:
      return "xdp_generic";
    case Enforcement::UserSpace:
      break;
  }
  return "userspace";
}

}  // namespace vx::core::ban
