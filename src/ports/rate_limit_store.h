// RateLimitStore: where GCRA state lives. LocalRateLimitStore keeps it in this process (one
// limit across all workers); RedisRateLimitStore shares it between replicas. Implementations
// say which threads may call them.
#pragma once

#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "core/ports/clock.h"
#include "core/ratelimit/gcra.h"
#include "core/ratelimit/policy.h"
#include "core/ratelimit/store_error.h"
#include "core/result.h"

namespace vx::ports {

class RateLimitStore {
 public:
  // Worker coroutines run on an io_context; naming its executor (the same type as the other
  // ports' Awaitable) avoids any_io_executor's type erasure on the hot path.
  using Executor = boost::asio::io_context::executor_type;
  using DecideResult = core::Result<core::ratelimit::Decision, core::ratelimit::StoreError>;

  virtual ~RateLimitStore() = default;

  // Counts one request of `key` under `policy` and says whether it may pass, with the numbers
  // for the RateLimit-* headers (limit, remaining, retry_after, reset_after). Decision::new_tat
  // is the store's own bookkeeping, meaningful only for LocalRateLimitStore.
  // `now` is the caller's steady clock; a store with its own clock (Redis TIME) ignores it.
  // Errors (store down, timeout, bad reply) come back as StoreError, never as exceptions: the
  // caller applies rate_limits.redis.on_error. `policy` and `key` must stay alive until the
  // awaitable completes (the usual `co_await store.decide(...)` guarantees it).
  // Never blocks the calling thread; may suspend (Redis) or complete at once (local).
  virtual boost::asio::awaitable<DecideResult, Executor> decide(
      const core::ratelimit::Policy& policy, std::string_view key, core::TimePoint now) = 0;
};

}  // namespace vx::ports
