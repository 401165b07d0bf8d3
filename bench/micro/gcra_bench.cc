// GCRA decision cost: the pure arithmetic, and LocalRateLimitStore's full decision (composite
// key, shard lock, hash lookup) on one hot key, on many keys, and from several threads.
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "adapters/ratelimit/local_rate_limit_store.h"
#include "core/ratelimit/gcra.h"
#include "core/ratelimit/policy.h"

namespace {

using vx::core::TimePoint;
using vx::core::ratelimit::Decision;
using vx::core::ratelimit::GcraParams;
using vx::core::ratelimit::Policy;

Policy bench_policy() {
  vx::core::config::RateLimitPolicy c;
  c.name = "default";
  c.rate = 1'000'000;  // high enough that most decisions are allowed
  c.burst = 1000;
  return *Policy::from_config(c);
}

void BM_GcraDecide(benchmark::State& state) {
  const GcraParams p = GcraParams::from_rate(100, std::chrono::seconds(1), 20);
  vx::core::ratelimit::Tat tat;
  int64_t ns = 1'000'000'000;
  for (auto _ : state) {
    ns += 3'000'000;  // a request every 3 ms: a mix of allowed and denied
    const Decision d = vx::core::ratelimit::gcra_decide(tat, TimePoint(vx::core::Nanos(ns)), p);
    tat = d.new_tat;
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_GcraDecide);

void BM_LocalStoreDecideOneKey(benchmark::State& state) {
  static vx::adapters::ratelimit::LocalRateLimitStore store;
  const Policy p = bench_policy();
  int64_t ns = 1'000'000'000;
  for (auto _ : state) {
    ns += 1000;
    benchmark::DoNotOptimize(store.decide_now(p, "203.0.113.7", TimePoint(vx::core::Nanos(ns))));
  }
}
// Threads share one key, so one shard: the contended worst case.
BENCHMARK(BM_LocalStoreDecideOneKey)->Threads(1)->Threads(2);

void BM_LocalStoreDecideManyKeys(benchmark::State& state) {
  static vx::adapters::ratelimit::LocalRateLimitStore store;
  const Policy p = bench_policy();
  std::vector<std::string> keys;
  for (int i = 0; i < 10000; ++i)
    keys.push_back("10.0." + std::to_string(i / 256) + "." +
                   std::to_string(i % 256 + state.thread_index()));
  std::size_t i = 0;
  int64_t ns = 1'000'000'000;
  for (auto _ : state) {
    ns += 1000;
    const std::string& k = keys[i++ % keys.size()];
    benchmark::DoNotOptimize(store.decide_now(p, k, TimePoint(vx::core::Nanos(ns))));
  }
}
BENCHMARK(BM_LocalStoreDecideManyKeys)->Threads(1)->Threads(2);

}  // namespace
