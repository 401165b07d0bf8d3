#include "proxy/upstream_attempt.h"

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>

#include "core/http/hop_by_hop.h"
#include "core/http/upgrade.h"
#include "ports/deadline_clock.h"
#include "ports/guarded_spawn.h"
#include "proxy/request_body_pump.h"
#include "proxy/stream_context.h"

namespace vx::proxy {

using core::filter::FilterStatus;
using core::filter::Hook;
using core::http::BodyFraming;
using core::http::Error;
using core::http::ErrorKind;

namespace {

using Clock = std::chrono::steady_clock;

// A body filter may change the body's length: the message goes out chunked (HTTP/1.1) or
// without a length (HTTP/2) instead of with a stale Content-Length.
template <typename Head>
void unframe_for_filters(Head& head, core::filter::HeaderEditor fields) {
  if (head.framing != BodyFraming::ContentLength) return;
  fields.remove("content-length");
  head.framing = BodyFraming::Chunked;
}

// The response head's way out, first part: hop-by-hop fields, then the route's response head
// filters (Hold: await StreamContext::resume_after_hold; Respond: a filter answered instead and
// the upstream's response is dropped).
FilterStatus filter_response_head(StreamContext& stream, core::http::ResponseHead& head,
                                  bool tunnel) {
  core::http::remove_hop_by_hop(head.headers, tunnel);
  if (tunnel || !stream.filters().wants(Hook::ResponseHead)) return FilterStatus::Continue;
  stream.set_response(&head);
  return stream.run_head_hooks(stream.filters(), Hook::ResponseHead);
}

// Second part, once the filters are done: the stream's extra fields, and framing for the
// response body filters.
void finish_response_head(StreamContext& stream, core::http::ResponseHead& head,
                          bool head_request) {
  stream.set_response(nullptr);
  const auto& extra = stream.response_extra();
  head.headers.insert(head.headers.end(), extra.begin(), extra.end());
  if (stream.response_body_filters() && !head_request) {
    unframe_for_filters(head, core::filter::HeaderEditor(head.headers, stream.scratch().arena));
  }
}

}  // namespace

ports::Awaitable<AttemptOutcome> attempt_upstream(StreamContext& stream,
                                                  ports::UpstreamStream& upstream,
                                                  core::lb::ActiveRequest& active) {
  namespace asio = boost::asio;
  using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, ports::Executor>;
  DownstreamExchange& exchange = stream.exchange();
  const std::chrono::milliseconds head_timeout = stream.route()->timeout;
  AttemptOutcome out;
  core::http::RequestHead& request = exchange.request();
  const bool body_replayable = request.framing == BodyFraming::None;
  if (stream.request_body_filters()) unframe_for_filters(request, stream.request());
  auto sent = upstream.send_head(request);
  if (!sent) {
    out.error = sent.error();
    out.resendable = body_replayable;
    co_return out;
  }
  // The head's views die at the first read_body (the pump's): keep what the relay needs. Only a
  // body-less request can switch protocols (its views then stay).
  const bool upgrade = request.upgrade && body_replayable;
  const std::string_view requested_upgrade =
      upgrade ? core::http::find_header(request.headers, "upgrade").value_or("") : "";
  const bool head_request = request.method == "HEAD";
  if (request.expect_continue) co_await exchange.send_continue();

  PumpState pump;
  std::optional<Timer> joined;
  asio::cancellation_signal stop_pump;
  if (request.framing != BodyFraming::None) {
    const auto executor = co_await asio::this_coro::executor;
    joined.emplace(executor, Clock::time_point::max());
    // The pump reports its failures as values; a cancelled one (the relay ended first) ends
    // quietly, anything else that escapes it is counted.
    ports::spawn_guarded_cancellable(executor,
                                     pump_request_body(stream, upstream, pump, head_timeout),
                                     ports::TaskKind::RequestBodyPump, stop_pump.slot(), [&] {
                                       pump.done = true;
                                       joined->cancel();
                                     });
  } else {
    pump.done = true;
    pump.sent_all = true;
    exchange.arm_deadline(ports::deadline_now() + head_timeout, &upstream);  // whole response head
    // The request just left (send_head): its answer cannot be here before the other ready
    // connections had their turn, after which try_recv_head usually finds it.
    const auto executor = co_await asio::this_coro::executor;
    co_await ports::yield_after_send(executor);
  }

  // 1. The final response head; interim ones (1xx) are relayed on the way.
  core::http::ResponseHead* head = nullptr;
  while (!pump.failed_downstream()) {
    auto ready = upstream.try_recv_head();
    if (!ready) ready = co_await upstream.recv_head();
    if (!*ready) {
      out.error = exchange.deadline_expired()
                      ? Error{ErrorKind::UpstreamTimeout, "upstream did not answer in time"}
                      : ready->error();
      out.resendable = body_replayable && out.error->is_reset();
      break;
    }
    core::http::ResponseHead* received = **ready;
    if (received->status == 101 &&
        !core::http::upgrade_answer_matches(
            requested_upgrade, core::http::find_header(received->headers, "upgrade"))) {
      // A switch nobody asked for (or to another protocol) would be a raw tunnel past routing
      // and filters: "h2c smuggling".
      out.error = Error{ErrorKind::UpstreamBadResponse, "upstream switched protocols unasked"};
      break;
    }
    if (received->status >= 200 || received->status == 101) {
      active.on_response_head(Clock::now());  // the latency estimate ends at the head
      head = received;
      break;
    }
    if (received->status == 100) continue;  // Vortex answered Expect itself
    auto interim = co_await exchange.send_interim(*received);
    if (!interim) {
      out.error = interim.error();
      break;
    }
  }

  // 2. The response filters' say on the head, then the head goes out.
  bool relayed = false;  // the whole response reached the client
  bool tunnel = false;
  bool head_sent = false;
  if (head) {
    pump.head_received = true;
    out.upstream_status = head->status;
    // From here every wait is bounded by the idle timeout, re-armed as bytes flow.
    exchange.arm_deadline(ports::deadline_now() + exchange.idle_timeout(), &upstream);
    tunnel = head->status == 101;  // an unasked one was refused above
    FilterStatus status = filter_response_head(stream, *head, tunnel);
    if (status == FilterStatus::Hold) {
      status = co_await stream.resume_after_hold(stream.filters(), Hook::ResponseHead);
    }
    finish_response_head(stream, *head, head_request);
    if (status == FilterStatus::Continue) {
      if (stream.filters().wants(Hook::LogResponseHead)) stream.keep_sent_response(*head);
      stream.set_status(head->status);
      out.response_started = true;
      auto started = exchange.send_head(*head);
      head_sent = started.has_value();
      if (!started) out.error = started.error();
    }
  }

  // 3. The body (or, after a 101 the client asked for, a byte tunnel).
  if (head_sent && tunnel) {
    co_await exchange.tunnel(upstream);
    relayed = true;
  } else if (head_sent) {
    const bool keep_alive = head->keep_alive;
    const auto idle = exchange.idle_timeout();
    BodyFilterRun* filters = head_request ? nullptr : stream.response_body_filters();
    while (!pump.failed_downstream()) {
      // The try_ forms finish without a coroutine frame when nothing has to wait.
      auto ready = upstream.try_recv_body();
      if (!ready) ready = co_await upstream.recv_body();
      if (!*ready) {
        out.error = ready->error();
        break;
      }
      const ports::BodyChunk& received = **ready;
      exchange.arm_deadline(ports::deadline_now() + idle, &upstream);
      ports::BodyChunk filtered;
      if (filters) {
        const auto result = filters->run(stream, received.pieces, received.last);
        if (result == BodyFilterRun::Result::Buffered) continue;
        if (result == BodyFilterRun::Result::Overflow) {
          out.error =
              Error{ErrorKind::UpstreamBadResponse, "response body over the filters' buffer limit"};
          break;
        }
        filtered = {filters->output(), received.last, received.trailers};
      }
      const ports::BodyChunk& chunk = filters ? filtered : received;
      for (auto piece : chunk.pieces) stream.add_bytes_sent(piece.size());
      auto written = exchange.try_send_body(chunk);
      if (!written) written = co_await exchange.send_body(chunk);
      if (!*written) {
        out.error = written->error();
        break;
      }
      if (chunk.last) {
        out.reusable = keep_alive;
        relayed = true;
        break;
      }
    }
  }

  // 4. The pump ends with the attempt.
  if (!pump.done) {
    // The response ended (or failed) first: the rest of the request body is not wanted.
    pump.stopped_by_relay = !pump.error;
    stop_pump.emit(asio::cancellation_type::terminal);
    while (!pump.done) co_await joined->async_wait(ports::kDeferTuple);
  }
  // A half-sent request leaves the connection in an unknown state.
  if (!pump.sent_all) out.reusable = false;
  // The pump's own downstream failure (client gone, 413, body timeout, a filter's answer)
  // caused the relay's failure or cut it short; a response already complete stands.
  if (pump.failed_downstream() && !relayed) {
    out.error = pump.error;
    out.resendable = false;
  }
  co_return out;
}

}  // namespace vx::proxy
