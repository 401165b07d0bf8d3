#include "proxy/forwarder.h"

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "core/http/hop_by_hop.h"
#include "core/lb/load_balancer.h"
#include "core/ratelimit/rate_limit_key.h"
#include "ports/deadline_clock.h"
#include "proxy/body_prefix.h"
#include "proxy/forwarded_headers.h"
#include "proxy/rate_limit_stage.h"

namespace vx::proxy {

using core::http::Error;
using core::http::ErrorKind;
using core::lb::Outcome;

namespace {

using Clock = std::chrono::steady_clock;

class HeaderLookupAdapter final : public core::route::HeaderLookup {
 public:
  explicit HeaderLookupAdapter(const core::http::HeaderList& headers) : headers_(headers) {}
  std::optional<std::string_view> get(std::string_view lower_name) const override {
    return core::http::find_header(headers_, lower_name);
  }

 private:
  const core::http::HeaderList& headers_;
};

// What one stream remembers for its access-log line. The head's views die once the body is
// read, so path and request id are copied into the exchange's scratch.
struct StreamLog {
  std::string_view method;  // codecs hand out static method names
  std::string_view route;
  std::string_view upstream;
  uint16_t status = 0;
  uint64_t bytes_sent = 0;
};

size_t index_of_endpoint(const ClusterRuntime& cluster, const core::lb::EndpointState& endpoint) {
  const auto endpoints = cluster.balancer->endpoints();
  return static_cast<size_t>(std::find(endpoints.begin(), endpoints.end(), &endpoint) -
                             endpoints.begin());
}

bool retry_allowed(const core::config::Route& route, core::config::RetryOn on) {
  return route.retries && std::find(route.retries->on.begin(), route.retries->on.end(), on) !=
                              route.retries->on.end();
}

ports::Awaitable<void> send_error(DownstreamExchange& exchange, const Error& error,
                                  StreamLog& log) {
  log.status = core::http::status_for(error.kind);
  if (exchange.response_started()) co_return;  // too late for an answer: the codec aborts
  static const core::http::HeaderList kNoHeaders;
  const std::string body = core::http::error_body(error);
  log.bytes_sent = body.size();
  co_await exchange.send_local(log.status, "application/json", body, kNoHeaders);
}

// What the request-body pump of a full-duplex exchange shares with the response relay.
struct PumpState {
  std::optional<Error> error;
  bool done = false;              // the pump coroutine ended
  bool sent_all = false;          // the whole body reached the upstream
  bool head_received = false;     // the relay got the final response head
  bool stopped_by_relay = false;  // the relay ended first and stopped the pump

  // The pump failed on the client's side: the relay must not wait on the upstream any more.
  // Checked before every upstream wait, since upstream.cancel() aborts only a wait in
  // progress and the pump may fail while the relay is elsewhere (or before it started).
  bool failed_downstream() const {
    return error && !stopped_by_relay && error->source() != core::http::ErrorSource::Upstream;
  }
};

// Pumps the request body to the upstream. Errors name their side: a downstream failure
// (413, client gone) versus an upstream one (reset while sending). With `pump` set, every
// chunk re-arms the idle deadline: an upload that keeps moving is not a stalled exchange.
ports::AsyncResult<void> forward_request_body(DownstreamExchange& exchange,
                                              ports::UpstreamStream& upstream,
                                              const BodyPrefix& prefix,
                                              const PumpState* pump = nullptr) {
  if (prefix.read) {  // bytes read ahead of routing go first, unchanged
    const std::string_view bytes = exchange.scratch().body_prefix;
    const ports::BodyChunk chunk{{&bytes, bytes.empty() ? 0u : 1u},
                                 prefix.complete,
                                 prefix.complete ? prefix.trailers : nullptr};
    auto sent = co_await upstream.send_body(chunk);
    if (!sent) co_return core::unexpected(sent.error());
    if (prefix.complete) co_return core::Result<void, Error>{};
  }
  for (;;) {
    auto chunk = co_await exchange.read_body();
    if (!chunk) co_return core::unexpected(chunk.error());
    if (!chunk->pieces.empty() || chunk->last) {
      if (pump) exchange.arm_deadline(ports::deadline_now() + exchange.idle_timeout(), &upstream);
      auto sent = co_await upstream.send_body(*chunk);
      if (!sent) co_return core::unexpected(sent.error());
    }
    if (chunk->last) co_return core::Result<void, Error>{};
  }
}

// The request body, sent while the relay reads the response (full duplex: gRPC bidi streams
// and early answers such as an origin's 413 need it). A downstream failure stops the relay
// through upstream.cancel(); an upstream one only stops the pump, since the response may still
// arrive. Once the body is sent, the response head gets the route's timeout.
ports::Awaitable<void> pump_request_body(DownstreamExchange& exchange,
                                         ports::UpstreamStream& upstream, const BodyPrefix& prefix,
                                         PumpState& state, std::chrono::milliseconds head_timeout) {
  auto body = co_await forward_request_body(exchange, upstream, prefix, &state);
  if (!body) {
    state.error = body.error();
    if (!state.stopped_by_relay && body.error().source() != core::http::ErrorSource::Upstream) {
      upstream.cancel();
    }
    co_return;
  }
  state.sent_all = true;
  if (!state.head_received) exchange.arm_deadline(ports::deadline_now() + head_timeout, &upstream);
}

struct ExchangeOutcome {
  std::optional<Error> error;  // set when the exchange failed
  bool response_started = false;
  bool retryable = false;  // nothing reached the client and the request can be sent again
  bool reusable = false;   // the upstream connection may go back to the pool
};

// One attempt against one endpoint: send the request, relay the response. A request with a
// body is full duplex: a child coroutine pumps the body while this one relays the response,
// and it is joined before returning. A request without one pays for no extra coroutine.
ports::Awaitable<ExchangeOutcome> exchange_once(DownstreamExchange& exchange,
                                                ports::UpstreamStream& upstream,
                                                const core::config::Route& route,
                                                bool body_replayable, const BodyPrefix& prefix,
                                                const core::http::HeaderList& extra_response,
                                                core::lb::ActiveRequest& active, StreamLog& log) {
  namespace asio = boost::asio;
  using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, ports::Executor>;
  ExchangeOutcome out;
  core::http::RequestHead& request = exchange.request();
  auto sent = upstream.send_head(request);
  if (!sent) {
    out.error = sent.error();
    out.retryable = body_replayable;
    co_return out;
  }
  // The head's views die at the first read_body (the pump's): keep what the relay needs.
  const bool upgrade = request.upgrade;
  if (request.expect_continue) co_await exchange.send_continue();

  PumpState pump;
  std::optional<Timer> joined;
  asio::cancellation_signal stop_pump;
  if (request.framing != core::http::BodyFraming::None) {
    const auto executor = co_await asio::this_coro::executor;
    joined.emplace(executor, Clock::time_point::max());
    asio::co_spawn(executor, pump_request_body(exchange, upstream, prefix, pump, route.timeout),
                   asio::bind_cancellation_slot(stop_pump.slot(), [&](std::exception_ptr) {
                     // An exception is how a cancelled coroutine ends (Asio's
                     // throw_if_cancelled); the pump reports real failures as values.
                     pump.done = true;
                     joined->cancel();
                   }));
  } else {
    pump.done = true;
    pump.sent_all = true;
    exchange.arm_deadline(ports::deadline_now() + route.timeout, &upstream);  // whole response head
    // The request just left (send_head): its answer cannot be here before the other ready
    // connections had their turn, after which try_recv_head usually finds it.
    const auto executor = co_await asio::this_coro::executor;
    co_await ports::yield_after_send(executor);
  }

  bool relayed = false;  // the whole response reached the client
  // The relay runs inline (not as a lambda coroutine) so a body-less request costs no extra
  // coroutine frame; its early exits jump to relay_done.
  {
    const core::http::ResponseHead* head = nullptr;
    for (;;) {
      if (pump.failed_downstream()) goto relay_done;
      auto ready = upstream.try_recv_head();
      if (!ready) ready = co_await upstream.recv_head();
      const auto& received = *ready;
      if (!received) {
        out.error = exchange.deadline_expired()
                        ? Error{ErrorKind::UpstreamTimeout, "upstream did not answer in time"}
                        : received.error();
        out.retryable = body_replayable && out.error->is_reset();
        goto relay_done;
      }
      head = *received;
      if (head->status >= 200 || head->status == 101) {
        active.on_response_head(Clock::now());  // the latency estimate ends at the head
        break;
      }
      if (head->status == 100) continue;  // Vortex answered Expect itself
      auto interim = co_await exchange.send_interim(*head);
      if (!interim) {
        out.error = interim.error();
        goto relay_done;
      }
    }
    pump.head_received = true;
    // From here every wait is bounded by the idle timeout, re-armed as bytes flow.
    const auto idle = exchange.idle_timeout();
    exchange.arm_deadline(ports::deadline_now() + idle, &upstream);
    auto& response = const_cast<core::http::ResponseHead&>(*head);
    const bool tunnel = response.status == 101 && upgrade;
    core::http::remove_hop_by_hop(response.headers, tunnel);
    response.headers.insert(response.headers.end(), extra_response.begin(), extra_response.end());
    log.status = response.status;
    out.response_started = true;
    auto head_sent = exchange.send_head(response);
    if (!head_sent) {
      out.error = head_sent.error();
      goto relay_done;
    }
    if (tunnel) {
      co_await exchange.tunnel(upstream);
      relayed = true;
      goto relay_done;
    }
    const bool keep_alive = response.keep_alive;
    for (;;) {
      if (pump.failed_downstream()) goto relay_done;
      // The try_ forms finish without a coroutine frame when nothing has to wait.
      auto ready = upstream.try_recv_body();
      if (!ready) ready = co_await upstream.recv_body();
      const auto& chunk = *ready;
      if (!chunk) {
        out.error = chunk.error();
        goto relay_done;
      }
      for (auto piece : chunk->pieces) log.bytes_sent += piece.size();
      exchange.arm_deadline(ports::deadline_now() + idle, &upstream);
      auto written = exchange.try_send_body(*chunk);
      if (!written) written = co_await exchange.send_body(*chunk);
      if (!*written) {
        out.error = written->error();
        goto relay_done;
      }
      if (chunk->last) break;
    }
    out.reusable = keep_alive;
    relayed = true;
  }
relay_done:

  if (!pump.done) {
    // The response ended (or failed) first: the rest of the request body is not wanted.
    pump.stopped_by_relay = !pump.error;
    stop_pump.emit(asio::cancellation_type::terminal);
    while (!pump.done) co_await joined->async_wait(ports::kDeferTuple);
  }
  // A half-sent request leaves the connection in an unknown state.
  if (!pump.sent_all) out.reusable = false;
  // The pump's own downstream failure (client gone, 413, body timeout) caused the relay's
  // failure or cut it short; a response already complete stands.
  if (pump.failed_downstream() && !relayed) {
    out.error = pump.error;
    out.retryable = false;
  }
  co_return out;
}

}  // namespace

ports::Awaitable<void> serve_stream(DownstreamExchange& exchange, WorkerContext& worker) {
  const auto started = Clock::now();
  const std::shared_ptr<const Runtime> runtime = worker.runtime.get();
  core::http::RequestHead& request = exchange.request();
  StreamScratch& scratch = exchange.scratch();
  StreamLog log;
  log.method = request.method;
  scratch.path.assign(request.target);
  request_id_for(request, scratch.request_id, worker.random);
  request.scheme = exchange.tls() ? "https" : "http";

  // The AI model: x-ai-model, else the "model" of a JSON body when some route or cluster
  // cares (the body's first bytes are read here and forwarded unchanged later).
  std::string_view model =
      core::http::find_header(request.headers, "x-ai-model").value_or(std::string_view{});
  BodyPrefix prefix;
  std::optional<Error> body_error;
  if (model.empty() && runtime->routes_by_model() &&
      request.framing != core::http::BodyFraming::None) {
    auto sniffed = co_await read_model_from_body(exchange, prefix);
    if (sniffed) {
      model = *sniffed;
    } else {
      body_error = sniffed.error();
    }
  }
  HeaderLookupAdapter lookup(request.headers);
  const core::route::RequestView view{request.method, request.authority, request.target, &lookup,
                                      model};
  const core::config::Route* route = runtime->routes().match(view);
  uint32_t route_index = kNoIndex, cluster_index = kNoIndex, endpoint_index = kNoIndex;
  std::string_view cluster_name;
  RateLimitVerdict limit;
  uint32_t policy_index = kNoIndex;
  // `ended`: a time already read at the end, if any (one clock read fewer per request).
  auto finish_log = [&](std::optional<Clock::time_point> ended = std::nullopt) {
    if (worker.observers.empty()) return;
    const RequestRecord record{
        log.method,     scratch.path,       log.route,
        log.upstream,   scratch.request_id, exchange.client_ip(),
        log.status,     log.bytes_sent,     (ended ? *ended : Clock::now()) - started,
        runtime.get(),  route_index,        cluster_index,
        endpoint_index, cluster_name,       limit.outcome,
        policy_index};
    for (RequestLogger* observer : worker.observers) observer->on_log(record);
  };
  if (body_error) {
    if (body_error->kind == ErrorKind::DownstreamClosed) {
      log.status = 499;
    } else {
      co_await send_error(exchange, *body_error, log);
    }
    finish_log();
    co_return;
  }
  if (!route) {
    co_await send_error(exchange, {ErrorKind::NoRoute, "no route"}, log);
    finish_log();
    co_return;
  }
  log.route = route->name;
  route_index = static_cast<uint32_t>(runtime->routes().index_of(route));
  // Rate limit (SPEC.md §3 429) before anything costs an upstream.
  RateLimitFields limit_fields;
  if (const core::ratelimit::Policy* policy = runtime->policy_for(route_index);
      policy && worker.rate_limits) {
    policy_index = static_cast<uint32_t>(policy - runtime->policies().data());
    const std::string_view client = canonical_client_ip(exchange.client_ip());
    const std::string_view key = core::ratelimit::request_key(
        policy->key, client,
        [&](std::string_view name) { return core::http::find_header(request.headers, name); },
        route->name);
    limit = co_await decide_rate_limit(*policy, key, worker);
    make_rate_limit_fields(limit, limit_fields);
    if (limit.deny) {
      if (limit.outcome == RateLimitOutcome::Limited && worker.bans) {
        worker.bans->record_violation(client, core::SteadyClock::now());
      }
      const std::string body = rate_limited_body(limit.values.retry_after_ms);
      log.status = 429;
      log.bytes_sent = body.size();
      co_await exchange.send_local(429, "application/json", body, limit_fields.headers);
      finish_log();
      co_return;
    }
  }

  if (route->direct_response) {
    const auto& direct = *route->direct_response;
    log.status = direct.status;
    log.bytes_sent = direct.body.size();
    co_await exchange.send_local(direct.status, direct.content_type, direct.body,
                                 limit_fields.headers);
    finish_log();
    co_return;
  }

  const ClusterRuntime* cluster = runtime->cluster_for(*route);
  if (!cluster) {  // a Kubernetes cluster not (yet) known: nothing to send it to
    co_await send_error(exchange, {ErrorKind::NoEndpoint, "no such cluster"}, log);
    finish_log();
    co_return;
  }
  cluster_index = static_cast<uint32_t>(cluster - runtime->clusters().data());
  cluster_name = cluster->config->name;
  rewrite_forwarded_headers(request, scratch.forwarded, exchange.client_ip(), scratch.request_id);
  exchange.arm_deadline(ports::deadline_now() + exchange.idle_timeout(), nullptr);

  // Attempts: the first, then route.retries.attempts more for idempotent requests that failed
  // before any response byte on connect failure or reset (SPEC.md retries.on); plus one free
  // retry on a fresh connection when a reused pooled connection turned out dead.
  const bool idempotent = core::http::is_idempotent(request.method);
  const bool body_replayable = request.framing == core::http::BodyFraming::None;
  uint32_t retries_left = (route->retries && idempotent) ? route->retries->attempts : 0;
  bool stale_retry_left = idempotent;
  bool fresh_only = false;
  const core::lb::EndpointState* previous = nullptr;
  Error last_error{ErrorKind::NoEndpoint, "no endpoint"};

  for (;;) {
    auto active = cluster->balancer->pick({Clock::now(), worker.random, view.ai_model, previous});
    if (!active) {
      last_error = {ErrorKind::NoEndpoint, "no endpoint"};
      break;
    }
    const size_t index = index_of_endpoint(*cluster, active->endpoint());
    const auto& endpoint_config = cluster->config->endpoints[index];
    log.upstream = endpoint_config.address.text;
    endpoint_index = static_cast<uint32_t>(index);
    previous = &active->endpoint();
    const auto& tls = cluster->config->tls;
    const ports::UpstreamTarget target{cluster->endpoint_keys[index],
                                       cluster->addresses[index],
                                       cluster->config->connect_timeout,
                                       cluster->config->pool.max_idle_per_endpoint,
                                       cluster->config->pool.idle_timeout,
                                       cluster->config->protocol,
                                       cluster->tls.get(),
                                       tls && !tls->sni.empty()
                                           ? std::string_view(tls->sni)
                                           : std::string_view(endpoint_config.address.host)};

    core::Result<ports::UpstreamLease, Error> lease =
        fresh_only ? ports::UpstreamLease{} : worker.pool.take_idle(target);
    if (!*lease) lease = co_await worker.pool.acquire(target, fresh_only);
    if (!lease) {
      last_error = lease.error();
      active->finish(Outcome::Failure, Clock::now());
      // Nothing of the request was read yet, so even a request with a body can go elsewhere.
      if (retry_allowed(*route, core::config::RetryOn::ConnectFailure) && retries_left > 0) {
        --retries_left;
        continue;
      }
      break;
    }
    ExchangeOutcome result = co_await exchange_once(exchange, **lease, *route, body_replayable,
                                                    prefix, limit_fields.headers, *active, log);
    // Asked after the exchange: an HTTP/2 stream the upstream refused unprocessed (GOAWAY,
    // REFUSED_STREAM) reports itself as safe to resend once, like a stale keep-alive.
    const bool reused = (*lease)->reused();
    const auto now = Clock::now();
    if (!result.error) {
      active->finish(log.status >= 500 ? Outcome::Failure : Outcome::Success, now);
      lease->reset(result.reusable);
      finish_log(now);
      co_return;
    }
    lease->reset(false);
    last_error = *result.error;
    // A keep-alive race or a stream the upstream refused unprocessed (HTTP/2 GOAWAY): not the
    // endpoint's fault, so it neither counts against the breaker nor uses up a retry. A
    // GOAWAY refuses every stream above its last id at once, and would open the breaker.
    const bool stale = result.retryable && !result.response_started && reused && stale_retry_left;
    if (last_error.source() == core::http::ErrorSource::Upstream && !stale) {
      active->finish(Outcome::Failure, now);
    } else {
      active->cancel(now);  // the client failed, not the endpoint
    }
    if (result.retryable && !result.response_started) {
      if (stale) {
        stale_retry_left = false;
        fresh_only = true;
        previous = nullptr;
        continue;
      }
      if (retry_allowed(*route, core::config::RetryOn::Reset) && retries_left > 0) {
        --retries_left;
        continue;
      }
    }
    break;
  }
  if (last_error.kind == ErrorKind::DownstreamClosed) {
    log.status = 499;  // nginx's "client closed request", for the log only
  } else {
    co_await send_error(exchange, last_error, log);
  }
  finish_log();
}

}  // namespace vx::proxy
