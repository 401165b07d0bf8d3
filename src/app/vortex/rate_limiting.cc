#include "app/vortex/rate_limiting.h"

#include "app/vortex/worker.h"
#include "ports/guarded_thread.h"

namespace vx::app {

core::Result<std::unique_ptr<RateLimiting>, std::string> RateLimiting::create(
    const core::config::Config& config, const std::vector<std::unique_ptr<Worker>>& workers) {
  std::unique_ptr<RateLimiting> limiting(new RateLimiting());
  // The registry always exists: the admin API bans by hand even when automatic bans are off.
  limiting->bans_ =
      std::make_unique<proxy::BanRegistry>(core::ban::BanSettings::from_config(config.bans));
  limiting->sweep_interval_ = config.bans.sweep_interval;
  const auto& limits = config.rate_limits;
  const bool any_policy = !limits.policies.empty();
  // The local store costs nothing until used, so it exists even without a policy: a reload
  // that adds one finds it. (A Redis client is only made when a policy needs it.)
  if (limits.store == core::config::RateLimitStoreKind::Local) {
    limiting->local_ = std::make_unique<adapters::ratelimit::LocalRateLimitStore>();
  }
  for (const auto& worker : workers) {
    ports::RateLimitStore* store = limiting->local_.get();
    if (any_policy && limits.store == core::config::RateLimitStoreKind::Redis) {
      auto redis = adapters::ratelimit::RedisRateLimitStore::create(
          worker->io(),
          adapters::ratelimit::RedisRateLimitStore::Options::from_config(limits.redis));
      if (!redis) return core::unexpected("rate_limits.redis: " + redis.error());
      store = redis->get();
      limiting->redis_.push_back(std::move(*redis));
    }
    worker->attach_rate_limiting(store, limits.redis.on_error, *limiting->bans_);
  }
  return limiting;
}

RateLimiting::~RateLimiting() {
  stop();
}

void RateLimiting::start() {
  sweeper_ = std::thread([this] {
    ports::run_guarded_thread(ports::TaskKind::BanSweeperThread, [this] { sweep_loop(); });
  });
}

void RateLimiting::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

void RateLimiting::sweep_loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, sweep_interval_, [this] { return stopping_; })) {
    const auto now = core::SteadyClock::now();
    bans_->sweep(now);
    if (local_) local_->sweep(now);
  }
}

}  // namespace vx::app
