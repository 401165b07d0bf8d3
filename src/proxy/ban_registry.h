// BanRegistry: the process's ban list (SPEC.md bans), shared by all workers and the control
// plane. Writers (a worker counting a 429, the admin API, the sweeper) take a mutex: they are
// rare and never on the path of an allowed request. Readers (every accept) go through a
// BanView: an immutable snapshot of the banned addresses, re-read only when its generation
// changed, so the accept path takes no lock.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/ban/ban_list.h"
#include "ports/ban_sink.h"

namespace vx::proxy {

class BanRegistry {
 public:
  explicit BanRegistry(core::ban::BanSettings settings)
      : list_(settings), automatic_(settings.after_violations > 0) {
    publish_locked({});
  }

  // A 429 was answered to `ip`; true when that banned it. With automatic bans off this takes
  // no lock: a flood of 429s must not serialise the workers on the registry's mutex.
  bool record_violation(std::string_view ip, core::TimePoint now);
  // Admin: ban for ttl (<= 0: the configured ttl); false when the list is full.
  bool ban(std::string_view ip, core::Nanos ttl, core::TimePoint now);
  bool unban(std::string_view ip);
  std::vector<core::ban::BanEntry> list(core::TimePoint now) const;
  // Lifts expired bans; returns how many.
  size_t sweep(core::TimePoint now);
  void update_settings(core::ban::BanSettings settings);
  // The kernel-side drop (XDP) when configured; null = refusal at accept only. The new sink is
  // handed every active ban; the caller keeps the old one alive until this returns.
  void set_sink(ports::BanSink* sink);
  size_t active() const { return active_.load(std::memory_order_relaxed); }

  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Snapshot = std::unordered_set<std::string, TransparentHash, std::equal_to<>>;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const Snapshot> snapshot() const;

 private:
  void publish_locked(core::TimePoint now);

  mutable std::mutex mutex_;
  core::ban::BanList list_;
  ports::BanSink* sink_ = nullptr;
  std::shared_ptr<const Snapshot> snapshot_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<size_t> active_{0};
  std::atomic<bool> automatic_;  // settings.after_violations > 0
};

// One per worker; not thread-safe.
class BanView {
 public:
  explicit BanView(const BanRegistry& registry) : registry_(registry) {}
  bool is_banned(std::string_view ip) {
    const uint64_t generation = registry_.generation();
    if (generation != generation_) {
      snapshot_ = registry_.snapshot();
      generation_ = generation;
    }
    return !snapshot_->empty() && snapshot_->find(ip) != snapshot_->end();
  }

 private:
  const BanRegistry& registry_;
  uint64_t generation_ = ~0ULL;
  std::shared_ptr<const BanRegistry::Snapshot> snapshot_;
};

}  // namespace vx::proxy
