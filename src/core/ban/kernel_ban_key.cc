#include "core/ban/kernel_ban_key.h"

#include <arpa/inet.h>

#include <algorithm>
#include <iterator>

namespace vx::core::ban {

std::optional<KernelBanKey> kernel_ban_key(std::string_view ip) {
  // inet_pton wants a NUL-terminated string; addresses are short, so this stays on the stack
  // for every real one (and a longer one is no address).
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  ip.copy(text, ip.size());
  KernelBanKey key;
  if (inet_pton(AF_INET, text, key.bytes.data()) == 1) {
    key.family = KernelBanKey::Family::V4;
    return key;
  }
  if (inet_pton(AF_INET6, text, key.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(std::begin(kMapped), std::end(kMapped), key.bytes.begin())) {
    KernelBanKey v4;
    v4.family = KernelBanKey::Family::V4;
    std::copy(key.bytes.begin() + 12, key.bytes.end(), v4.bytes.begin());
    return v4;
  }
  key.family = KernelBanKey::Family::V6;
  return key;
}

uint64_t kernel_expiry_ns(TimePoint until) {
  const auto ns = std::chrono::duration_cast<Nanos>(until.time_since_epoch()).count();
  return ns > 0 ? static_cast<uint64_t>(ns) : 0;
}

}  // namespace vx::core::ban
