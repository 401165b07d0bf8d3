// FilterSources: the filters a config's chains are built from besides the built-in ones,
// handed to Runtime::build by whoever applies a config (the app). Immutable once built.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "ports/http_filter.h"

namespace vx::proxy {

struct FilterSources {
  // The filter a routes[].plugins name stands for; null or empty when it has none (the Wasm
  // host fills this in: until then a plugin name adds no filter).
  std::function<std::shared_ptr<const ports::HttpFilter>(std::string_view plugin)> plugin;
  // Added to the chain of every route with a cluster, before the forwarded headers (no-op
  // filters that measure the seam: VORTEX_BENCH_FILTERS).
  std::vector<std::shared_ptr<const ports::HttpFilter>> on_cluster_routes;
};

}  // namespace vx::proxy
