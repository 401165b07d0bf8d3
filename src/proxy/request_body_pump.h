// The request body's way to the upstream during one attempt: the bytes read ahead of routing
// first, then the rest as it arrives, through the route's request body filters when it has
// some. With a response to relay at the same time (full duplex: gRPC bidi streams, an origin's
// early 413), it runs as a child coroutine of the attempt (proxy/upstream_attempt.cc) and
// shares PumpState with it. On the worker's thread.
#pragma once

#include <chrono>
#include <optional>

#include "core/http/error.h"
#include "ports/awaitable_result.h"
#include "ports/upstream_pool.h"

namespace vx::proxy {

class StreamContext;

// What the pump shares with the response relay of the same attempt.
struct PumpState {
  std::optional<core::http::Error> error;
  bool done = false;              // the pump coroutine ended
  bool sent_all = false;          // the whole body reached the upstream
  bool head_received = false;     // the relay got the final response head
  bool stopped_by_relay = false;  // the relay ended first and stopped the pump

  // The pump failed on the client's side (or a filter answered): the relay must not wait on
  // the upstream any more. Checked before every upstream wait, since upstream.cancel() aborts
  // only a wait in progress and the pump may fail while the relay is elsewhere (or before it
  // started).
  bool failed_downstream() const {
    return error && !stopped_by_relay && error->source() != core::http::ErrorSource::Upstream;
  }
};

// Pumps the whole request body. Errors name their side: a downstream failure (413, client gone,
// a body filter's answer) versus an upstream one (reset while sending). Every chunk re-arms the
// idle deadline: an upload that keeps moving is not a stalled exchange. A downstream failure
// stops the relay through upstream.cancel(); an upstream one only stops the pump, since the
// response may still arrive. Once the body is sent, the response head gets `head_timeout`.
ports::Awaitable<void> pump_request_body(StreamContext& stream, ports::UpstreamStream& upstream,
                                         PumpState& state, std::chrono::milliseconds head_timeout);

}  // namespace vx::proxy
