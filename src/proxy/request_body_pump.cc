#include "proxy/request_body_pump.h"

#include "ports/deadline_clock.h"
#include "proxy/stream_context.h"

namespace vx::proxy {

using core::http::Error;
using core::http::ErrorKind;

namespace {

// One piece through the request body filters, then (what they let through) to the upstream.
ports::AsyncResult<void> send_filtered(StreamContext& stream, BodyFilterRun& filters,
                                       ports::UpstreamStream& upstream,
                                       const ports::BodyChunk& chunk) {
  switch (filters.run(stream, chunk.pieces, chunk.last)) {
    case BodyFilterRun::Result::Buffered:
      co_return core::Result<void, Error>{};
    case BodyFilterRun::Result::Overflow:
      co_return core::unexpected(
          Error{ErrorKind::BodyTooLarge, "request body over the filters' buffer limit"});
    case BodyFilterRun::Result::Respond:
      co_return core::unexpected(
          Error{ErrorKind::Forbidden, "a request body filter answered the request"});
    case BodyFilterRun::Result::Continue:
      break;
  }
  co_return co_await upstream.send_body({filters.output(), chunk.last, chunk.trailers});
}

ports::AsyncResult<void> forward_request_body(StreamContext& stream,
                                              ports::UpstreamStream& upstream) {
  DownstreamExchange& exchange = stream.exchange();
  BodyFilterRun* filters = stream.request_body_filters();
  const BodyPrefix& prefix = stream.body_prefix();
  if (prefix.read) {  // bytes read ahead of routing go first, unchanged
    const std::string_view bytes = stream.scratch().body_prefix;
    const ports::BodyChunk chunk{{&bytes, bytes.empty() ? 0u : 1u},
                                 prefix.complete,
                                 prefix.complete ? prefix.trailers : nullptr};
    auto sent = filters ? co_await send_filtered(stream, *filters, upstream, chunk)
                        : co_await upstream.send_body(chunk);
    if (!sent) co_return core::unexpected(sent.error());
    if (prefix.complete) co_return core::Result<void, Error>{};
  }
  for (;;) {
    auto chunk = co_await exchange.read_body();
    if (!chunk) co_return core::unexpected(chunk.error());
    if (!chunk->pieces.empty() || chunk->last) {
      exchange.arm_deadline(ports::deadline_now() + exchange.idle_timeout(), &upstream);
      auto sent = filters ? co_await send_filtered(stream, *filters, upstream, *chunk)
                          : co_await upstream.send_body(*chunk);
      if (!sent) co_return core::unexpected(sent.error());
    }
    if (chunk->last) co_return core::Result<void, Error>{};
  }
}

}  // namespace

ports::Awaitable<void> pump_request_body(StreamContext& stream, ports::UpstreamStream& upstream,
                                         PumpState& state, std::chrono::milliseconds head_timeout) {
  auto body = co_await forward_request_body(stream, upstream);
  if (!body) {
    state.error = body.error();
    if (!state.stopped_by_relay && body.error().source() != core::http::ErrorSource::Upstream) {
      upstream.cancel();
    }
    co_return;
  }
  state.sent_all = true;
  if (!state.head_received) {
    stream.exchange().arm_deadline(ports::deadline_now() + head_timeout, &upstream);
  }
}

}  // namespace vx::proxy
