#include "proxy/ban_registry.h"

namespace vx::proxy {

bool BanRegistry::record_violation(std::string_view ip, core::TimePoint now) {
  if (!automatic_.load(std::memory_order_relaxed)) return false;
  std::lock_guard lock(mutex_);
  const auto until = list_.record_violation(ip, now);
  if (!until) return false;
  if (sink_) sink_->ban(ip, *until);
  publish_locked(now);
  return true;
}

bool BanRegistry::ban(std::string_view ip, core::Nanos ttl, core::TimePoint now) {
  std::lock_guard lock(mutex_);
  const auto until = list_.ban(ip, ttl, now);
  if (!until) return false;
  if (sink_) sink_->ban(ip, *until);
  publish_locked(now);
  return true;
}

bool BanRegistry::unban(std::string_view ip) {
  std::lock_guard lock(mutex_);
  if (!list_.unban(ip)) return false;
  if (sink_) sink_->unban(ip);
  publish_locked(core::SteadyClock::now());
  return true;
}

std::vector<core::ban::BanEntry> BanRegistry::list(core::TimePoint now) const {
  std::lock_guard lock(mutex_);
  return list_.list(now);
}

size_t BanRegistry::sweep(core::TimePoint now) {
  std::lock_guard lock(mutex_);
  const auto lifted = list_.sweep(now);
  if (lifted.empty()) return 0;
  if (sink_) {
    for (const auto& ip : lifted) sink_->unban(ip);
  }
  publish_locked(now);
  return lifted.size();
}

void BanRegistry::update_settings(core::ban::BanSettings settings) {
  std::lock_guard lock(mutex_);
  list_.update_settings(settings);
  automatic_.store(settings.after_violations > 0, std::memory_order_relaxed);
}

void BanRegistry::set_sink(ports::BanSink* sink) {
  std::lock_guard lock(mutex_);
  sink_ = sink;
  // Bans made before the sink existed (or while another sink had them) reach it now, with
  // their own expiry: attaching XDP at a reload enforces the bans already in force.
  if (sink_) {
    for (const auto& entry : list_.list(core::SteadyClock::now()))
      sink_->ban(entry.ip, entry.until);
  }
}

std::shared_ptr<const BanRegistry::Snapshot> BanRegistry::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void BanRegistry::publish_locked(core::TimePoint now) {
  auto snapshot = std::make_shared<Snapshot>();
  for (auto& entry : list_.list(now)) snapshot->insert(std::move(entry.ip));
  active_.store(snapshot->size(), std::memory_order_relaxed);
  snapshot_ = std::move(snapshot);
  generation_.fetch_add(1, std::memory_order_release);
}

}  // namespace vx::proxy
