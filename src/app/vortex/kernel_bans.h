// KernelBans: the kernel side of one process's bans (SPEC.md §2 bans.xdp, docs/xdp.md): which
// XDP sink the BanRegistry feeds now, its replacement when a reload names another interface or
// mode, and what /metrics and ListBans read of it. Without bans.xdp.interface, or when the
// program cannot attach, there is no sink and the registry's refusal at accept is all there is.
//
// Threads: configure() runs on the main thread at start and in reload commits (the applier
// serialises them); the readers run on the metrics and gRPC threads. The sink is shared so a
// reader never sees it freed under it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "adapters/xdp/xdp_ban_sink.h"
#include "core/ban/ban_enforcement.h"
#include "core/config/config.h"
#include "proxy/ban_registry.h"

namespace vx::app {

class KernelBans {
 public:
  explicit KernelBans(proxy::BanRegistry& registry) : registry_(registry) {}
  // Unhooks the registry first: no ban may reach a sink that is going away.
  ~KernelBans();
  KernelBans(const KernelBans&) = delete;
  KernelBans& operator=(const KernelBans&) = delete;

  // Attaches for `bans.xdp` (interface "" = user space only) and hands the new sink every
  // active ban. The same interface and mode as the attached program: nothing happens. A failed
  // attach logs one line and leaves user space enforcing; it never refuses the config.
  void configure(const core::config::Bans& bans);

  core::ban::Enforcement enforcement() const;
  // Where the ban of `ip` is enforced: the XDP mode when the map holds it, else "userspace".
  std::string_view enforcement_of(std::string_view ip) const;
  // Monotonic across reloads: the drops of a replaced program are kept.
  uint64_t dropped_packets() const;

 private:
  std::shared_ptr<adapters::xdp::XdpBanSink> current() const;
  void replace(std::shared_ptr<adapters::xdp::XdpBanSink> next);

  proxy::BanRegistry& registry_;
  mutable std::mutex mutex_;
  std::shared_ptr<adapters::xdp::XdpBanSink> sink_;
  uint64_t retired_drops_ = 0;
};

}  // namespace vx::app
