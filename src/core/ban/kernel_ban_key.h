// KernelBanKey: a banned address as the XDP program looks it up (SPEC.md §2 bans.xdp): the
// source bytes of an IPv4 or IPv6 header, and the ban's expiry on the clock the program reads.
// Pure: the adapter (adapters/xdp) turns these into map updates.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/ports/clock.h"

namespace vx::core::ban {

struct KernelBanKey {
  enum class Family : uint8_t { V4, V6 };
  Family family = Family::V4;
  // Network byte order, as in the packet: 4 bytes used for V4, 16 for V6.
  std::array<uint8_t, 16> bytes{};
  friend bool operator==(const KernelBanKey&, const KernelBanKey&) = default;
};

// The key for a textual address; nullopt when it is neither IPv4 nor IPv6. An IPv4-mapped IPv6
// address ("::ffff:1.2.3.4") is the IPv4 key: that client's packets carry an IPv4 header.
std::optional<KernelBanKey> kernel_ban_key(std::string_view ip);

// The expiry as bpf_ktime_get_ns() counts (CLOCK_MONOTONIC nanoseconds since boot). The steady
// clock of libstdc++ on Linux is CLOCK_MONOTONIC, so this is its count, never below 0.
uint64_t kernel_expiry_ns(TimePoint until);

}  // namespace vx::core::ban
