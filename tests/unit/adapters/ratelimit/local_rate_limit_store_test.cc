#include "adapters/ratelimit/local_rate_limit_store.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace vx::adapters::ratelimit {
namespace {

using core::TimePoint;
using core::ratelimit::Policy;
using std::chrono::milliseconds;
using std::chrono::seconds;

Policy policy(std::string name, uint64_t rate, milliseconds period, uint64_t burst) {
  core::config::RateLimitPolicy c;
  c.name = std::move(name);
  c.rate = rate;
  c.period = period;
  c.burst = burst;
  return *Policy::from_config(c);
}

const TimePoint kNow = TimePoint(seconds(1000));

TEST(LocalRateLimitStoreTest, AllowsBurstPlusOneThenDeniesAndRefills) {
  LocalRateLimitStore store;
  const Policy p = policy("p", 10, milliseconds(1000), 2);
  for (uint64_t i = 0; i < 3; ++i) {
    const auto d = store.decide_now(p, "1.2.3.4", kNow);
    ASSERT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 2 - i);
  }
  const auto denied = store.decide_now(p, "1.2.3.4", kNow);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, milliseconds(100));
  EXPECT_TRUE(store.decide_now(p, "1.2.3.4", kNow + milliseconds(100)).allowed);
}

TEST(LocalRateLimitStoreTest, KeysAndPoliciesHaveSeparateBuckets) {
  LocalRateLimitStore store;
  const Policy a = policy("a", 1, milliseconds(1000), 0);
  const Policy b = policy("b", 1, milliseconds(1000), 0);
  EXPECT_TRUE(store.decide_now(a, "k", kNow).allowed);
  EXPECT_FALSE(store.decide_now(a, "k", kNow).allowed);
  EXPECT_TRUE(store.decide_now(a, "other", kNow).allowed);
  EXPECT_TRUE(store.decide_now(b, "k", kNow).allowed);
  EXPECT_EQ(store.size(), 3u);
}

TEST(LocalRateLimitStoreTest, AwaitableDecideGivesTheSameDecision) {
  LocalRateLimitStore store;
  const Policy p = policy("p", 1, milliseconds(1000), 0);
  boost::asio::io_context io;
  std::vector<bool> allowed;
  boost::asio::co_spawn(
      io.get_executor(),
      [&]() -> boost::asio::awaitable<void, boost::asio::io_context::executor_type> {
        for (int i = 0; i < 2; ++i) {
          auto r = co_await store.decide(p, "k", kNow);
          allowed.push_back(r.has_value() && r->allowed);
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_EQ(allowed, (std::vector<bool>{true, false}));
}

TEST(LocalRateLimitStoreTest, TwoThreadsOnOneKeyGetExactlyBurstPlusOneInOneInstant) {
  LocalRateLimitStore store;
  const Policy p = policy("p", 100, milliseconds(1000), 49);  // limit 50
  std::atomic<int> allowed{0};
  std::atomic<bool> go{false};
  auto hammer = [&] {
    while (!go.load()) {
    }
    for (int i = 0; i < 20000; ++i) {
      if (store.decide_now(p, "shared", kNow).allowed) allowed.fetch_add(1);
    }
  };
  std::thread t1(hammer), t2(hammer);
  go.store(true);
  t1.join();
  t2.join();
  EXPECT_EQ(allowed.load(), 50);
}

TEST(LocalRateLimitStoreTest, ManyThreadsOnManyKeysEachGetTheirOwnLimit) {
  LocalRateLimitStore store;
  const Policy p = policy("p", 1, milliseconds(1000), 2);  // limit 3
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 500; ++k) {
        for (int i = 0; i < 5; ++i) {
          if (store.decide_now(p, "key" + std::to_string(k), kNow).allowed) allowed.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 500 * 3);
}

TEST(LocalRateLimitStoreTest, FloodOfDistinctKeysStaysWithinTheCap) {
  LocalRateLimitStore store(LocalRateLimitStore::Options{.shards = 4, .max_keys = 64});
  const Policy p = policy("p", 1, milliseconds(60000), 0);
  for (int i = 0; i < 10000; ++i) store.decide_now(p, "ip" + std::to_string(i), kNow);
  EXPECT_LE(store.size(), 64u);
  EXPECT_GE(store.size(), 60u);
}

TEST(LocalRateLimitStoreTest, EvictionPrefersExpiredKeysOverLiveOnes) {
  LocalRateLimitStore store(LocalRateLimitStore::Options{.shards = 1, .max_keys = 8});
  const Policy slow = policy("slow", 1, milliseconds(3600 * 1000), 0);
  const Policy fast = policy("fast", 1000, milliseconds(1000), 0);  // T = 1 ms
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(store.decide_now(slow, "live" + std::to_string(i), kNow).allowed);
  }
  for (int i = 0; i < 4; ++i) store.decide_now(fast, "short" + std::to_string(i), kNow);
  // One second later the "fast" keys are expired; new keys must replace them, not the live ones.
  for (int i = 0; i < 4; ++i) store.decide_now(fast, "new" + std::to_string(i), kNow + seconds(1));
  EXPECT_EQ(store.size(), 8u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(store.decide_now(slow, "live" + std::to_string(i), kNow + seconds(1)).allowed)
        << "live key " << i << " was evicted and forgot its usage";
  }
}

TEST(LocalRateLimitStoreTest, SweepDropsOnlyExpiredKeys) {
  LocalRateLimitStore store;
  const Policy p = policy("p", 10, milliseconds(1000), 0);  // T = 100 ms
  store.decide_now(p, "a", kNow);
  store.decide_now(p, "b", kNow + milliseconds(50));
  EXPECT_EQ(store.sweep(kNow + milliseconds(100)), 1u);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_FALSE(store.decide_now(p, "b", kNow + milliseconds(100)).allowed);
}

}  // namespace
}  // namespace vx::adapters::ratelimit
