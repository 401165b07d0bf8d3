#include "proxy/pipeline.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/lb/load_balancer.h"
#include "core/retry/retry_policy.h"
#include "ports/deadline_clock.h"
#include "proxy/stream_context.h"
#include "proxy/upstream_attempt.h"
#include "proxy/upstream_target.h"

namespace vx::proxy {

using core::filter::FilterStatus;
using core::filter::Hook;
using core::http::Error;
using core::http::ErrorKind;
using core::lb::Outcome;
using core::retry::RetryDecision;

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

ports::Awaitable<void> serve_stream(DownstreamExchange& exchange, WorkerContext& worker) {
  StreamContext stream(exchange, worker);
  const Runtime& runtime = stream.runtime();

  // 1. Request head: the filters that run before routing.
  const FilterChain& pre_route = runtime.pre_route_filters();
  FilterStatus status = stream.run_head_hooks(pre_route, Hook::RequestHead);
  if (status == FilterStatus::Hold) {
    status = co_await stream.resume_after_hold(pre_route, Hook::RequestHead);
  }

  // 2. Route (first match wins).
  if (status == FilterStatus::Continue && !stream.select_route()) {
    stream.fail({ErrorKind::NoRoute, "no route"});
    status = FilterStatus::Respond;
  }

  // 3. Request filters: the route's chain answers (429, direct_response, a plugin) or lets the
  //    request on, its head ready for the upstream.
  if (status == FilterStatus::Continue) {
    status = stream.run_head_hooks(stream.filters(), Hook::RequestHead);
    if (status == FilterStatus::Hold) {
      status = co_await stream.resume_after_hold(stream.filters(), Hook::RequestHead);
    }
  }

  // 4. Upstream attempts: the first, then what the retry policy allows. The loop runs in this
  //    coroutine so that a request costs no coroutine frame for it.
  std::optional<Clock::time_point> ended;  // read once at the end when known
  const ClusterRuntime* cluster =
      status == FilterStatus::Continue ? runtime.cluster_for(*stream.route()) : nullptr;
  if (status == FilterStatus::Continue && !cluster) {
    stream.fail({ErrorKind::NoEndpoint, "no such cluster"});  // a Kubernetes cluster not known
  } else if (cluster) {
    stream.set_cluster(*cluster);
    exchange.arm_deadline(ports::deadline_now() + exchange.idle_timeout(), nullptr);
    core::retry::RetryPolicy retry(stream.route()->retries,
                                   core::http::is_idempotent(stream.request_head().method));
    const core::lb::EndpointState* previous = nullptr;
    StreamTrace* const trace = stream.trace();
    Error last_error{ErrorKind::NoEndpoint, "no endpoint"};
    for (;;) {
      auto active =
          cluster->balancer->pick({Clock::now(), worker.random, stream.ai_model(), previous});
      if (!active) {
        last_error = {ErrorKind::NoEndpoint, "no endpoint"};
        stream.trace_event(core::trace::SpanEventKind::NoEndpoint);
        break;
      }
      const size_t index = index_of_endpoint(*cluster, active->endpoint());
      const std::string_view address = cluster->config->endpoints[index].address.text;
      stream.set_endpoint(index, address);
      previous = &active->endpoint();
      // Each attempt is a CLIENT span, and carries its id upstream in traceparent.
      if (trace) trace->begin_attempt(stream.request_head(), worker.random);
      const ports::UpstreamTarget target = upstream_target(*cluster, index);
      core::Result<ports::UpstreamLease, Error> lease =
          retry.fresh_only() ? ports::UpstreamLease{} : worker.pool.take_idle(target);
      if (!*lease) lease = co_await worker.pool.acquire(target, retry.fresh_only());
      if (!lease) {
        last_error = lease.error();
        const auto now = Clock::now();
        active->finish(Outcome::Failure, now);
        if (trace)
          trace->end_attempt(*worker.spans, {cluster->config->name, address, 0, last_error}, now);
        if (retry.after_connect_failure() == RetryDecision::Retry) continue;
        break;
      }
      const AttemptOutcome result = co_await attempt_upstream(stream, **lease, *active);
      // Asked after the exchange: an HTTP/2 stream the upstream refused unprocessed (GOAWAY,
      // REFUSED_STREAM) reports itself as safe to resend once, like a stale keep-alive.
      const bool reused = (*lease)->reused();
      const auto now = Clock::now();
      if (trace) {
        trace->end_attempt(*worker.spans,
                           {cluster->config->name, address, result.upstream_status, result.error},
                           now);
      }
      if (!result.error) {
        active->finish(result.upstream_status >= 500 ? Outcome::Failure : Outcome::Success, now);
        lease->reset(result.reusable);
        ended = now;
        break;
      }
      lease->reset(false);
      last_error = *result.error;
      const auto verdict = retry.after_exchange_failure(
          {last_error, result.resendable, result.response_started, reused});
      if (verdict.blame_endpoint) {
        active->finish(Outcome::Failure, now);
      } else {
        active->cancel(now);  // the client failed, or a keep-alive race: not the endpoint
      }
      if (verdict.decision == RetryDecision::RetryFresh) previous = nullptr;
      if (verdict.decision == RetryDecision::GiveUp) break;
    }
    if (!ended) stream.fail(last_error);
  }

  // 5. Finish: the answer the stream owes, then the single exit.
  if (stream.answer_pending()) co_await stream.send_answer();
  stream.finish(ended);
}

}  // namespace vx::proxy
