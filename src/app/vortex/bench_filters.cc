#include "app/vortex/bench_filters.h"

#include <array>
#include <utility>

#include "core/http/header.h"
#include "proxy/filters/noop_filter.h"

namespace vx::app {

core::Result<proxy::FilterSources, std::string> bench_filters(std::string_view spec) {
  using core::filter::Hook;
  static constexpr std::array<std::pair<std::string_view, Hook>, 5> kHooks{{
      {"request_head", Hook::RequestHead},
      {"request_body", Hook::RequestBody},
      {"response_head", Hook::ResponseHead},
      {"response_body", Hook::ResponseBody},
      {"log", Hook::Log},
  }};
  proxy::FilterSources sources;
  std::string unknown;
  core::http::for_each_token(spec, [&](std::string_view name) {
    for (const auto& [known, hook] : kHooks) {
      if (name == known) {
        sources.on_cluster_routes.push_back(std::make_shared<proxy::NoopFilter>(hook));
        return;
      }
    }
    if (unknown.empty()) unknown = name;
  });
  if (!unknown.empty()) {
    return core::unexpected("VORTEX_BENCH_FILTERS: unknown hook '" + unknown +
                            "' (request_head, request_body, response_head, response_body, log)");
  }
  return sources;
}

}  // namespace vx::app
