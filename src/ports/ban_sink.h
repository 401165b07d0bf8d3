// BanSink: where a ban takes effect. The default refuses banned sources in the accept loop
// (user space); the XDP adapter drops their packets in the kernel. Synchronous and cheap;
// called from the thread that owns the BanList (never a worker's hot path).
#pragma once

#include <string_view>

#include "core/ports/clock.h"

namespace vx::ports {

class BanSink {
 public:
  virtual ~BanSink() = default;

  // Starts refusing `ip` (textual IPv4 or IPv6, normalised by the caller) until `until`
  // (steady clock). Called again for the same ip to move its expiry. Must not throw; a sink
  // that cannot apply the ban (e.g. the XDP map is full) counts it and carries on, since the
  // BanList still refuses the address in user space.
  virtual void ban(std::string_view ip, core::TimePoint until) = 0;

  // Stops refusing `ip`: called when a ban is lifted by the sweeper or the admin API. Unknown
  // addresses are ignored.
  virtual void unban(std::string_view ip) = 0;
};

}  // namespace vx::ports
