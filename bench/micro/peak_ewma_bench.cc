// Micro-benchmarks for the Peak-EWMA maths: the score, a read (with its decay) and a sample.
#include <chrono>

#include <benchmark/benchmark.h>

#include "core/lb/endpoint_state.h"
#include "core/lb/peak_ewma.h"

namespace {

using namespace vx::core;
using std::chrono::microseconds;
using std::chrono::milliseconds;

const TimePoint kStart = TimePoint{} + std::chrono::hours(1);

void BM_PeakEwmaScoreFormula(benchmark::State& state) {
  double ewma = 3.5;
  uint32_t active = 2;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ewma);
    benchmark::DoNotOptimize(active);
    benchmark::DoNotOptimize(lb::peak_ewma_score(ewma, active));
  }
}
BENCHMARK(BM_PeakEwmaScoreFormula);

// What a pick computes per candidate: decayed read of the estimate + active count. The clock
// moves 1 us per read, as under load (the short-interval series path).
void BM_EndpointScoreUnderLoad(benchmark::State& state) {
  config::Endpoint endpoint;
  endpoint.address.text = "127.0.0.1:9001";
  lb::EndpointState e(endpoint, config::Cluster{}, kStart);
  e.latency().observe(milliseconds(4), kStart);
  TimePoint now = kStart;
  for (auto _ : state) {
    now += microseconds(1);
    benchmark::DoNotOptimize(e.score(now));
  }
}
BENCHMARK(BM_EndpointScoreUnderLoad);

// A read long after the last sample: the exp() path.
void BM_PeakEwmaReadAfterIdle(benchmark::State& state) {
  lb::PeakEwma ewma(config::PeakEwmaSettings{}, kStart);
  ewma.observe(milliseconds(40), kStart);
  TimePoint now = kStart + std::chrono::seconds(5);
  for (auto _ : state) {
    now += microseconds(1);
    benchmark::DoNotOptimize(ewma.value_ms_at(now));
  }
}
BENCHMARK(BM_PeakEwmaReadAfterIdle);

void BM_PeakEwmaObserve(benchmark::State& state) {
  lb::PeakEwma ewma(config::PeakEwmaSettings{}, kStart);
  TimePoint now = kStart;
  int64_t i = 0;
  for (auto _ : state) {
    now += microseconds(10);
    ewma.observe(microseconds(200 + (++i & 255)), now);
  }
  benchmark::DoNotOptimize(ewma.value_ms_at(now));
}
BENCHMARK(BM_PeakEwmaObserve);

}  // namespace
