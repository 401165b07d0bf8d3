// Route matching cost as the table grows (issue 19): host + path_prefix routes, the matching
// route last (the worst place for a scan), and the cost of building the table.
#include <memory>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>

#include "adapters/config/re2_regex_compiler.h"
#include "core/route/route_table.h"

namespace {

using vx::core::route::RequestView;
using vx::core::route::RouteTable;

std::shared_ptr<const vx::core::config::Config> tenants(int64_t n) {
  vx::core::config::Config config;
  for (int64_t i = 0; i < n; ++i) {
    vx::core::config::Route r;
    r.name = "r" + std::to_string(i);
    r.match.host = "tenant" + std::to_string(i) + ".example.com";
    r.match.path_prefix = "/api/v" + std::to_string(i % 7) + "/";
    r.cluster = "c";
    config.routes.push_back(std::move(r));
  }
  return std::make_shared<const vx::core::config::Config>(std::move(config));
}

void BM_RouteMatchLast(benchmark::State& state) {
  const int64_t n = state.range(0);
  vx::adapters::config::Re2RegexCompiler regex;
  const RouteTable table = std::move(RouteTable::build(tenants(n), regex)).value();
  const std::string host = "Tenant" + std::to_string(n - 1) + ".example.com:8080";
  const std::string path = "/api/v" + std::to_string((n - 1) % 7) + "/users/42?full=1";
  const RequestView request{"GET", host, path, nullptr, {}};
  for (auto _ : state) benchmark::DoNotOptimize(table.match(request));
  if (table.match(request) != &table.routes().back()) state.SkipWithError("wrong route");
}
BENCHMARK(BM_RouteMatchLast)->Arg(1)->Arg(12)->Arg(13)->Arg(1000)->Arg(10000);

void BM_RouteTableBuild(benchmark::State& state) {
  const auto config = tenants(state.range(0));
  vx::adapters::config::Re2RegexCompiler regex;
  for (auto _ : state) benchmark::DoNotOptimize(RouteTable::build(config, regex));
}
BENCHMARK(BM_RouteTableBuild)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
