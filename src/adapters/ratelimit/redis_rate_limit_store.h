// RedisRateLimitStore: GCRA state shared by every replica through Redis (SPEC.md
// rate_limits.store: redis): one atomic Lua script per decision over a small pool of
// pipelined hiredis async connections. One instance per worker, used only on that worker's
// io_context thread; never blocks it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "adapters/ratelimit/redis_url.h"
#include "core/config/config.h"
#include "core/ports/random.h"
#include "core/result.h"
#include "ports/rate_limit_store.h"

namespace vx::adapters::ratelimit {

class RedisRateLimitStore final : public ports::RateLimitStore {
 public:
  struct Options {
    std::string url = "redis://127.0.0.1:6379";
    std::chrono::milliseconds timeout{50};  // per decision, from send to reply
    uint32_t pool_size = 4;                 // connections, used round-robin
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds backoff_initial{50};  // reconnect delay, doubled up to max
    std::chrono::milliseconds backoff_max{2000};
    // Past this many unanswered decisions a connection takes no more (a stalled Redis must
    // not grow memory without bound); decisions then fail fast as Unavailable.
    std::size_t max_in_flight_per_connection = 4096;
    std::string key_prefix = "vx:rl:";
    // Tests only: send the caller's `now` to the script instead of using Redis' TIME, so a
    // test can replay a sequence against LocalRateLimitStore. Steady clocks of different
    // processes are unrelated: never in production.
    bool use_caller_clock_for_test = false;

    static Options from_config(const core::config::RedisSettings& redis);
  };

  // Parses the url and resolves its host (blocking getaddrinfo: call at startup or reload, on
  // the control thread, never on a worker). Connections start on `io`'s thread once it runs.
  // Refuses a bad url or an unresolvable host with a message. `io` must outlive the store.
  static core::Result<std::unique_ptr<RedisRateLimitStore>, std::string> create(
      boost::asio::io_context& io, Options options);

  // REQUIRES: called on io's thread, or after io stopped running. Frees the connections;
  // decisions still waiting complete with StoreError::Unavailable.
  ~RedisRateLimitStore() override;

  // ports::RateLimitStore. Call on io's thread only. Suspends for one Redis round trip (the
  // EVALSHA is pipelined behind whatever else is in flight on the connection), at most
  // `timeout`; a late reply is dropped. Fails fast with Unavailable when no connection is up.
  // On NOSCRIPT (script cache flushed, Redis restarted) it reloads the script and retries
  // once, within the same timeout. `now` is used only to express Decision::new_tat in the
  // caller's clock (and as the clock itself with use_caller_clock_for_test).
  boost::asio::awaitable<DecideResult, Executor> decide(const core::ratelimit::Policy& policy,
                                                        std::string_view key,
                                                        core::TimePoint now) override;

  // Connections currently established (for readiness, metrics and tests). io's thread.
  std::size_t connected_count() const;

  // The Redis key holding `key`'s tat under `policy`: prefix + len(policy) + ":" + policy +
  // ":" + key, so no two (policy, key) pairs share a Redis key.
  std::string redis_key(std::string_view policy, std::string_view key) const;

 private:
  struct Connection;
  struct Pending;

  RedisRateLimitStore(boost::asio::io_context& io, Options options, std::string ip, uint16_t port,
                      uint32_t db);
  Connection* pick();

  boost::asio::io_context& io_;
  Options options_;
  std::string ip_;  // resolved once: hiredis would otherwise resolve, blocking, per reconnect
  uint16_t port_;
  uint32_t db_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::size_t next_ = 0;  // round-robin cursor
  core::Xoshiro256 rng_;  // backoff jitter
};

}  // namespace vx::adapters::ratelimit
