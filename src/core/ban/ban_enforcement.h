// Where bans take effect (SPEC.md §2 bans.xdp): which XDP attach modes to try for a configured
// mode, and the name each enforcement has in logs, metrics and ListBans.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/config/config.h"

namespace vx::core::ban {

enum class Enforcement : uint8_t { UserSpace, XdpNative, XdpGeneric };
inline constexpr Enforcement kEnforcements[] = {Enforcement::UserSpace, Enforcement::XdpNative,
                                                Enforcement::XdpGeneric};

// The attach attempts, in order, for bans.xdp.mode: auto prefers the driver's own hook
// (native: before any sk_buff is built) and falls back to generic, which every device has.
std::span<const Enforcement> xdp_attach_plan(config::XdpMode mode);

// "userspace", "xdp_native", "xdp_generic": a metric label and ListBans' enforcement field.
std::string_view enforcement_name(Enforcement enforcement);

}  // namespace vx::core::ban
