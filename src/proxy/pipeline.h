// The request pipeline of one stream, whatever its HTTP version (docs/life-of-a-request.md), as
// an ordered list of phases with one exit:
//   request head (filters before routing: the AI model) → route → request filters (plugins,
//   rate limit, direct_response or forwarded headers) → upstream attempts (retry policy;
//   response filters inside each) → finish (the answer owed, then log, count, on_log hooks).
// Runs on the worker's thread.
#pragma once

#include "ports/awaitable_result.h"
#include "proxy/downstream_exchange.h"
#include "proxy/worker_context.h"

namespace vx::proxy {

// Serves the exchange's request to completion. Never throws: every failure becomes the SPEC.md
// §3 answer, or an aborted response when bytes already went out (the codec then closes).
ports::Awaitable<void> serve_stream(DownstreamExchange& exchange, WorkerContext& worker);

}  // namespace vx::proxy
