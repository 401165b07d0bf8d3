// ForwardedHeadersFilter: the request head as the upstream gets it (SPEC.md §4, and
// proxy/forwarded_headers.h): hop-by-hop fields removed, x-forwarded-for, x-forwarded-proto,
// via, x-request-id. Last in the chain of every route with a cluster, so the fields describe
// the head the other filters left. Stateless; shared by all workers.
#pragma once

#include "ports/http_filter.h"

namespace vx::proxy {

class ForwardedHeadersFilter final : public ports::HttpFilter {
 public:
  std::string_view name() const override { return "forwarded_headers"; }
  core::filter::HookSet hooks() const override { return core::filter::Hook::RequestHead; }
  core::filter::FilterStatus on_request_head(ports::FilterStream& stream) const override;
};

}  // namespace vx::proxy
