#include "app/vortex/kernel_bans.h"

#include <cstdio>
#include <utility>

namespace vx::app {

namespace {

std::string_view mode_word(core::config::XdpMode mode) {
  switch (mode) {
    case core::config::XdpMode::Native:
      return "native";
    case core::config::XdpMode::Generic:
      return "generic";
    case core::config::XdpMode::Auto:
      break;
  }
  return "auto";
}

}  // namespace

KernelBans::~KernelBans() {
  replace(nullptr);
}

void KernelBans::configure(const core::config::Bans& bans) {
  const auto running = current();
  if (bans.xdp_interface.empty()) {
    if (running) {
      std::fprintf(stderr, "vortex: bans: XDP detached from %s; bans are refused at accept\n",
                   running->interface().c_str());
    }
    replace(nullptr);
    return;
  }
  if (running && running->interface() == bans.xdp_interface &&
      running->configured_mode() == bans.xdp_mode) {
    return;
  }
  // The old program goes first: on the same interface a new one in another mode could not
  // attach beside it, and user space covers the moment between the two.
  replace(nullptr);
  auto attached = adapters::xdp::XdpBanSink::attach(bans.xdp_interface, bans.xdp_mode);
  if (!attached) {
    std::fprintf(stderr,
                 "vortex: bans: XDP not attached to %s (mode %s): %s; banned clients are "
                 "refused at accept in user space\n",
                 bans.xdp_interface.c_str(), std::string(mode_word(bans.xdp_mode)).c_str(),
                 attached.error().c_str());
    return;
  }
  std::shared_ptr<adapters::xdp::XdpBanSink> sink = std::move(*attached);
  std::fprintf(stderr,
               "vortex: bans: XDP program %u attached to %s (%s): banned clients' packets are "
               "dropped in the kernel\n",
               sink->program_id(), sink->interface().c_str(),
               std::string(core::ban::enforcement_name(sink->enforcement())).c_str());
  replace(std::move(sink));
}

core::ban::Enforcement KernelBans::enforcement() const {
  const auto sink = current();
  return sink ? sink->enforcement() : core::ban::Enforcement::UserSpace;
}

std::string_view KernelBans::enforcement_of(std::string_view ip) const {
  const auto sink = current();
  if (sink && sink->holds(ip)) return core::ban::enforcement_name(sink->enforcement());
  return core::ban::enforcement_name(core::ban::Enforcement::UserSpace);
}

uint64_t KernelBans::dropped_packets() const {
  std::lock_guard lock(mutex_);
  return retired_drops_ + (sink_ ? sink_->dropped_packets() : 0);
}

std::shared_ptr<adapters::xdp::XdpBanSink> KernelBans::current() const {
  std::lock_guard lock(mutex_);
  return sink_;
}

void KernelBans::replace(std::shared_ptr<adapters::xdp::XdpBanSink> next) {
  // The registry lets go of the old sink (under its own lock) before the old one can be
  // destroyed, and the new one gets every active ban before this returns.
  registry_.set_sink(next.get());
  std::shared_ptr<adapters::xdp::XdpBanSink> old;
  {
    std::lock_guard lock(mutex_);
    if (sink_) retired_drops_ += sink_->dropped_packets();
    old = std::exchange(sink_, std::move(next));
  }
  // `old` detaches here, or on the reader thread still holding it.
}

}  // namespace vx::app
