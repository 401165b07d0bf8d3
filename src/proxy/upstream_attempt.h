// One upstream attempt of a stream, against one endpoint: send the request head, pump the body
// (proxy/request_body_pump.h) while the response is relayed, run the route's response filters
// on the way, and say how it ended so the pipeline can record it and decide on a retry
// (core/retry/retry_policy.h). On the worker's thread.
#pragma once

#include <cstdint>
#include <optional>

#include "core/http/error.h"
#include "core/lb/active_request.h"
#include "ports/awaitable_result.h"
#include "ports/upstream_pool.h"

namespace vx::proxy {

class StreamContext;

struct AttemptOutcome {
  std::optional<core::http::Error> error;  // set when the exchange failed
  uint16_t upstream_status = 0;            // the final head's status, once one arrived
  bool response_started = false;           // a response byte went to the client
  bool resendable = false;  // nothing reached the client and the request can be sent again
  bool reusable = false;    // the upstream connection may go back to the pool
};

// Runs the exchange on `upstream` to its end. A request with a body is full duplex: a child
// coroutine pumps the body while this one relays the response, and it is joined before
// returning; a request without one pays for no extra coroutine. `active` learns when the
// response head arrived (the latency estimate). A response filter that answers locally leaves
// the stream owing that answer and the outcome without an error. Never throws.
ports::Awaitable<AttemptOutcome> attempt_upstream(StreamContext& stream,
                                                  ports::UpstreamStream& upstream,
                                                  core::lb::ActiveRequest& active);

}  // namespace vx::proxy
