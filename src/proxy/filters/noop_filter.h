// NoopFilter: a filter that wants the given hooks and changes nothing, to measure what the
// seam itself costs (bench/README.md: VORTEX_BENCH_FILTERS). Stateless; shared by all workers.
#pragma once

#include "ports/http_filter.h"

namespace vx::proxy {

class NoopFilter final : public ports::HttpFilter {
 public:
  explicit NoopFilter(core::filter::HookSet hooks) : hooks_(hooks) {}
  std::string_view name() const override { return "noop"; }
  core::filter::HookSet hooks() const override { return hooks_; }

 private:
  const core::filter::HookSet hooks_;
};

}  // namespace vx::proxy
