// VORTEX_BENCH_FILTERS: no-op filters on every route with a cluster, to measure what the filter
// seam costs (bench/README.md). A comma-separated list of hooks, each one filter wanting only
// that hook: request_head, request_body, response_head, response_body, log. Read once at start;
// unset or empty means none. Not a configuration key: nothing a user needs, only a benchmark.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "proxy/filter_sources.h"

namespace vx::app {

// The filters `spec` names, in order; refuses an unknown hook with a message naming it.
core::Result<proxy::FilterSources, std::string> bench_filters(std::string_view spec);

}  // namespace vx::app
