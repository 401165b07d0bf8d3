// Micro-benchmarks for the Peak-EWMA maths: the score, a read (with its decay) and a sample.
#include <algorithm>
#include <chrono>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/lb/endpoint_state.h"
#include "core/lb/peak_ewma.h"

namespace {

using namespace vx::core;
using std::chrono::microseconds;
using std::chrono::milliseconds;

const TimePoint kStart = TimePoint{} + std::chrono::hours(1);

// The formula alone, over 1024 candidates per iteration: throughput per score, as the seed
// quoted it (items_per_second; time per iteration / 1024 = time per score).
void BM_PeakEwmaScoreFormula(benchmark::State& state) {
  std::vector<double> ewma(1024);
  std::vector<uint32_t> active(1024);
  for (size_t i = 0; i < ewma.size(); ++i) {
    ewma[i] = 0.5 + static_cast<double>(i % 97);
    active[i] = static_cast<uint32_t>(i % 7);
  }
  for (auto _ : state) {
    double best = 1e300;
    for (size_t i = 0; i < ewma.size(); ++i)
      best = std::min(best, lb::peak_ewma_score(ewma[i], active[i]));
    benchmark::DoNotOptimize(best);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(ewma.size()));
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
