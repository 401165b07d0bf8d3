// Micro-benchmarks for LoadBalancer::pick: one pick + finish per iteration, per policy and size,
// single-threaded and with two threads sharing one balancer (the atomics under contention).
#include <chrono>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "core/lb/load_balancer.h"

namespace {

using namespace vx::core;
using std::chrono::microseconds;

const TimePoint kStart = TimePoint{} + std::chrono::hours(1);

config::Cluster make_cluster(config::LbPolicy policy, int endpoints) {
  config::Cluster c;
  c.name = "bench";
  c.lb = policy;
  for (int i = 0; i < endpoints; ++i) {
    config::Endpoint e;
    e.address.text = "10.0.0." + std::to_string(i) + ":80";
    e.weight = 1 + (i % 3);
    c.endpoints.push_back(std::move(e));
  }
  return c;
}

void run_picks(benchmark::State& state, lb::LoadBalancer& balancer, uint64_t seed) {
  Xoshiro256 random(seed);
  TimePoint now = kStart;
  for (auto _ : state) {
    now += microseconds(1);
    auto picked = balancer.pick({.now = now, .random = random});
    // Latencies 100-355 us, so estimates keep moving and scores differ.
    picked->finish(lb::Outcome::Success, now + microseconds(100 + (random.next() & 255)));
  }
}

template <config::LbPolicy kPolicy>
void BM_Pick(benchmark::State& state) {
  lb::LoadBalancer balancer(make_cluster(kPolicy, static_cast<int>(state.range(0))), kStart);
  run_picks(state, balancer, 42);
}
BENCHMARK(BM_Pick<config::LbPolicy::PeakEwma>)->Arg(3)->Arg(16)->Arg(128);
BENCHMARK(BM_Pick<config::LbPolicy::LeastRequest>)->Arg(16);
BENCHMARK(BM_Pick<config::LbPolicy::RoundRobin>)->Arg(16);
BENCHMARK(BM_Pick<config::LbPolicy::Random>)->Arg(16);

// Two threads (the machine has two cores) picking from one shared balancer.
std::unique_ptr<lb::LoadBalancer> shared_balancer;

void BM_PickShared(benchmark::State& state) {
  if (state.thread_index() == 0) {
    shared_balancer = std::make_unique<lb::LoadBalancer>(
        make_cluster(config::LbPolicy::PeakEwma, static_cast<int>(state.range(0))), kStart);
  }
  // Benchmark's threads start their loops together, after thread 0's setup above.
  run_picks(state, *shared_balancer, 42 + state.thread_index());
}
BENCHMARK(BM_PickShared)->Arg(3)->Arg(16)->Threads(2)->UseRealTime();

// Every request's pick ends in one of these; all endpoints healthy (closed breaker).
void BM_BreakerAdmitClosed(benchmark::State& state) {
  breaker::CircuitBreaker breaker(config::CircuitBreakerSettings{});
  TimePoint now = kStart;
  for (auto _ : state) {
    now += microseconds(1);
    benchmark::DoNotOptimize(breaker.admit(now));
  }
}
BENCHMARK(BM_BreakerAdmitClosed);

void BM_BreakerAdmitAndSucceed(benchmark::State& state) {
  breaker::CircuitBreaker breaker(config::CircuitBreakerSettings{});
  TimePoint now = kStart;
  for (auto _ : state) {
    now += microseconds(1);
    const breaker::Admission admission = breaker.admit(now);
    breaker.on_result(admission, true, now);
  }
}
BENCHMARK(BM_BreakerAdmitAndSucceed);

void BM_BreakerRefuseWhileOpen(benchmark::State& state) {
  breaker::CircuitBreaker breaker(
      config::CircuitBreakerSettings{.consecutive_failures = 1, .open = std::chrono::hours(1)});
  TimePoint now = kStart;
  breaker.on_result(breaker.admit(now), false, now);
  for (auto _ : state) {
    now += microseconds(1);
    benchmark::DoNotOptimize(breaker.would_admit(now));
  }
}
BENCHMARK(BM_BreakerRefuseWhileOpen);

}  // namespace
