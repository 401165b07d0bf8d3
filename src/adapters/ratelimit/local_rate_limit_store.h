// LocalRateLimitStore: GCRA state for the whole process (SPEC.md rate_limits.store: local), one
// limit across all workers. Thread-safe: 64 cache-line-aligned shards, each its own small
// mutex + hash map, so workers contend only when two hit the same shard in the same instant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/ports/random.h"
#include "core/ratelimit/gcra.h"
#include "core/ratelimit/policy.h"
#include "ports/rate_limit_store.h"

namespace vx::adapters::ratelimit {

class LocalRateLimitStore final : public ports::RateLimitStore {
 public:
  struct Options {
    std::size_t shards = 64;
    // Bound on tracked keys for the whole store (split evenly across shards). ~80 bytes each
    // for short keys, so the default costs ~20 MB at worst.
    std::size_t max_keys = std::size_t{1} << 18;
    uint64_t seed = 0x5eed;  // for eviction sampling
  };

  LocalRateLimitStore() : LocalRateLimitStore(Options{}) {}
  explicit LocalRateLimitStore(Options options);
  ~LocalRateLimitStore() override;

  // The decision, synchronously: takes one shard lock for a hash lookup and a few integer ops.
  // Any thread. A new key in a full shard first evicts: among a few sampled keys, every
  // expired one (tat <= now: its bucket is full, so forgetting it changes nothing), else the
  // one closest to full; so a flood of distinct keys cannot grow memory, at worst it forgets
  // some live key's recent usage.
  core::ratelimit::Decision decide_now(const core::ratelimit::Policy& policy, std::string_view key,
                                       core::TimePoint now);

  // ports::RateLimitStore. Completes without suspending; never fails.
  boost::asio::awaitable<DecideResult, Executor> decide(const core::ratelimit::Policy& policy,
                                                        std::string_view key,
                                                        core::TimePoint now) override;

  // Drops every expired key; returns how many. Any thread; locks one shard at a time. Optional
  // (eviction already bounds memory) but keeps the table small between bursts.
  std::size_t sweep(core::TimePoint now);

  std::size_t size() const;
  std::size_t max_keys_per_shard() const { return per_shard_cap_; }

 private:
  struct Shard;

  std::size_t per_shard_cap_;
  std::unique_ptr<Shard[]> shards_;
  std::size_t shard_count_;
};

}  // namespace vx::adapters::ratelimit
