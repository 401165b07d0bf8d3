// DirectResponseFilter: a route's direct_response (SPEC.md §2): answered by Vortex itself, last
// in the route's chain. Immutable; shared by all workers.
#pragma once

#include "core/config/config.h"
#include "ports/http_filter.h"

namespace vx::proxy {

class DirectResponseFilter final : public ports::HttpFilter {
 public:
  // `response` lives in the config the Runtime holding this filter keeps alive.
  explicit DirectResponseFilter(const core::config::DirectResponse& response)
      : response_(response) {}

  std::string_view name() const override { return "direct_response"; }
  core::filter::HookSet hooks() const override { return core::filter::Hook::RequestHead; }
  core::filter::FilterStatus on_request_head(ports::FilterStream& stream) const override {
    stream.respond({response_.status, response_.content_type, response_.body});
    return core::filter::FilterStatus::Respond;
  }

 private:
  const core::config::DirectResponse& response_;
};

}  // namespace vx::proxy
