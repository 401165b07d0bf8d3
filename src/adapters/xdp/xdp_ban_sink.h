// XdpBanSink: the BanSink that drops banned clients' packets in the kernel (SPEC.md §2
// bans.xdp, docs/xdp.md). It loads the XDP program of bpf/ban_filter.bpf.c (embedded in the
// binary by its bpftool skeleton), attaches it to one interface and mirrors every ban into
// the program's maps. The BanList stays the truth: user space still refuses a banned address
// at accept, so a ban the map cannot take (full, or the program gone) is still enforced.
//
// Threads: ban()/unban() come from the BanRegistry under its mutex; holds() and
// dropped_packets() from the admin and metrics threads. Every one is a single bpf() syscall on
// a map fd this object owns, and the kernel serialises map access, so no lock here.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/ban/ban_enforcement.h"
#include "core/config/config.h"
#include "core/result.h"
#include "ports/ban_sink.h"

struct vortex_xdp;  // the bpftool skeleton (generated/adapters/xdp/ban_filter.skel.h)

namespace vx::adapters::xdp {

class XdpBanSink final : public ports::BanSink {
 public:
  // Loads the program and attaches it to `interface` in the first mode of
  // core::ban::xdp_attach_plan(mode) the device accepts. A program of ours left attached by a
  // process that died is replaced in place (one program per interface, never stacked); a
  // foreign program is left alone and refuses the attach. The error is one line saying why
  // (no such interface, no privilege, mode unsupported ...).
  static core::Result<std::unique_ptr<XdpBanSink>, std::string> attach(const std::string& interface,
                                                                       core::config::XdpMode mode);
  // Detaches the program (only if it is still the one attached) and frees the maps.
  ~XdpBanSink() override;
  XdpBanSink(const XdpBanSink&) = delete;
  XdpBanSink& operator=(const XdpBanSink&) = delete;

  void ban(std::string_view ip, core::TimePoint until) override;
  void unban(std::string_view ip) override;

  // Whether the kernel map holds `ip` now (ListBans: where each ban is enforced).
  bool holds(std::string_view ip) const;
  // Sum of the per-CPU drop counters since this program was loaded.
  uint64_t dropped_packets() const;
  // Map updates the kernel refused (map full, invalid address): those bans stay user space.
  uint64_t failed_updates() const { return failed_updates_.load(std::memory_order_relaxed); }

  core::ban::Enforcement enforcement() const { return enforcement_; }
  const std::string& interface() const { return interface_; }
  core::config::XdpMode configured_mode() const { return configured_mode_; }
  uint32_t program_id() const { return program_id_; }

 private:
  XdpBanSink() = default;

  vortex_xdp* skeleton_ = nullptr;
  std::string interface_;
  int ifindex_ = 0;
  uint32_t attach_flags_ = 0;
  uint32_t program_id_ = 0;
  int possible_cpus_ = 1;
  core::config::XdpMode configured_mode_ = core::config::XdpMode::Auto;
  core::ban::Enforcement enforcement_ = core::ban::Enforcement::UserSpace;
  std::atomic<uint64_t> failed_updates_{0};
};

}  // namespace vx::adapters::xdp
