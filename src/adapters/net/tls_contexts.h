// TlsContexts: the TLS server contexts of one config snapshot, one per TLS listener (by
// name), and TlsContextsHolder, which the control plane swaps whole on reload so the next
// handshake uses the new certificates while open connections keep the ones they started with.
// TlsContexts is immutable; the holder is thread-safe (a mutex taken once per generation per
// listener, never per connection once warm).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/net/tls_server_context.h"
#include "core/config/config.h"
#include "core/config/diagnostic.h"
#include "core/result.h"

namespace vx::adapters::net {

class TlsContexts {
 public:
  // Builds every TLS listener's context; refuses with every problem found (vortex check).
  static core::Result<std::shared_ptr<const TlsContexts>, std::vector<core::config::Diagnostic>>
  build(const core::config::Config& config);

  // The context of listener `name`, or null when it has no TLS.
  std::shared_ptr<const TlsServerContext> find(const std::string& name) const {
    auto it = by_listener_.find(name);
    return it == by_listener_.end() ? nullptr : it->second;
  }

 private:
  std::map<std::string, std::shared_ptr<const TlsServerContext>> by_listener_;
};

class TlsContextsHolder {
 public:
  void publish(std::shared_ptr<const TlsContexts> contexts) {
    std::lock_guard lock(mutex_);
    current_ = std::move(contexts);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const TlsContexts> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const TlsContexts> current_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace vx::adapters::net
