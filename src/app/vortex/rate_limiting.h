// Rate limiting and bans of one `vortex run` process: the store every worker asks (one local
// store for the process, or one Redis client per worker on that worker's loop), the ban
// registry and its sweeper thread. Built on the main thread before the workers start.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/ratelimit/local_rate_limit_store.h"
#include "adapters/ratelimit/redis_rate_limit_store.h"
#include "core/config/config.h"
#include "core/result.h"
#include "proxy/ban_registry.h"

namespace vx::app {

class Worker;

class RateLimiting {
 public:
  // Creates the stores named by `config` and attaches them (and the ban registry, when
  // bans.after_violations > 0) to every worker. Refuses an unusable Redis URL.
  static core::Result<std::unique_ptr<RateLimiting>, std::string> create(
      const core::config::Config& config, const std::vector<std::unique_ptr<Worker>>& workers);
  ~RateLimiting();

  // Starts the sweeper: expired bans lifted every bans.sweep_interval_ms, idle local buckets
  // evicted.
  void start();
  void stop();
  proxy::BanRegistry& bans() { return *bans_; }

 private:
  RateLimiting() = default;
  void sweep_loop();

  std::unique_ptr<adapters::ratelimit::LocalRateLimitStore> local_;
  std::vector<std::unique_ptr<adapters::ratelimit::RedisRateLimitStore>> redis_;
  std::unique_ptr<proxy::BanRegistry> bans_;
  std::chrono::milliseconds sweep_interval_{5000};
  std::thread sweeper_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace vx::app
