// HttpFilter: one step of a route's filter chain, with hooks named for when they run
// (docs/ports.md has the contract). Built when a config is applied, immutable afterwards and
// shared by every worker: hooks are const and keep per-stream data in FilterStream::state().
#pragma once

#include <string_view>

#include "core/filter/body_buffer.h"
#include "core/filter/filter_status.h"
#include "ports/filter_stream.h"

namespace vx::ports {

class HttpFilter {
 public:
  virtual ~HttpFilter() = default;

  // For logs and metrics.
  virtual std::string_view name() const = 0;
  // The hooks the pipeline calls; the others are never called. Fixed for the filter's life.
  virtual core::filter::HookSet hooks() const = 0;

  // The request head, before anything went upstream: edit it, answer (Respond) or Hold.
  virtual core::filter::FilterStatus on_request_head(FilterStream& stream) const {
    return core::filter::FilterStatus::Continue;
  }
  // Each piece of the request body as it streams to the upstream; end_of_stream with the last.
  virtual core::filter::BodyStatus on_request_body(FilterStream& stream,
                                                   core::filter::BodyBuffer& body,
                                                   bool end_of_stream) const {
    return core::filter::BodyStatus::Continue;
  }
  // The upstream's final response head, before it goes to the client: edit it, replace the
  // response with a local one (Respond) or Hold.
  virtual core::filter::FilterStatus on_response_head(FilterStream& stream) const {
    return core::filter::FilterStatus::Continue;
  }
  // Each piece of the response body on its way to the client (Respond is not allowed here: the
  // head is out).
  virtual core::filter::BodyStatus on_response_body(FilterStream& stream,
                                                    core::filter::BodyBuffer& body,
                                                    bool end_of_stream) const {
    return core::filter::BodyStatus::Continue;
  }
  // Once, when the stream is over, whatever the way it ended.
  virtual void on_log(FilterStream& stream, const StreamOutcome& outcome) const {}
};

}  // namespace vx::ports
