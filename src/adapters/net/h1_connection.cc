#include "adapters/net/h1_connection.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <exception>
#include <utility>

#include "adapters/codec/h1/h1_serializer.h"
#include "adapters/codec/h2/upgrade_settings.h"
#include "adapters/net/recv_now.h"
#include "adapters/net/send_now.h"
#include "ports/buffer_view.h"
#include "ports/deadline_clock.h"
#include "proxy/pipeline.h"

namespace vx::adapters::net {

using core::http::BodyFraming;
using core::http::Error;
using core::http::ErrorKind;
namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

h1::ParseLimits parse_limits(const core::config::Limits& limits) {
  return {limits.max_header_bytes, limits.max_headers, limits.max_uri_bytes, limits.max_body_bytes};
}

}  // namespace

template <typename Stream>
BasicH1Connection<Stream>::BasicH1Connection(Stream stream, proxy::WorkerContext& worker,
                                             const core::config::Limits& limits,
                                             std::string_view listener, bool tls, bool h2c)
    : socket_(std::move(stream)),
      worker_(worker),
      limits_(limits),
      tls_(tls),
      h2c_(h2c),
      facts_(tcp_of(socket_).native_handle(), listener),
      timer_(socket_.get_executor()),
      watchdog_exit_(socket_.get_executor()),
      parser_(h1::H1Parser::Mode::Request, parse_limits(limits)) {
  client_ip_ = client_address(tcp_of(socket_));
  boost::system::error_code ec;
  tcp_of(socket_).set_option(asio::ip::tcp::no_delay(true), ec);
}

template <typename Stream>
ports::Awaitable<H1Exit> BasicH1Connection<Stream>::run() {
  deadline_ = ports::deadline_now() + limits_.header_timeout;
  watchdog_running_ = true;
  arm_watchdog();
  std::exception_ptr failed;
  try {
    co_await serve();
  } catch (...) {
    failed = std::current_exception();
  }
  closed_ = true;
  timer_.cancel();
  while (watchdog_running_) {  // it refers to this connection: outlive it
    watchdog_exit_.expires_at(SteadyClock::time_point::max());
    co_await watchdog_exit_.async_wait(ports::kDeferTuple);
  }
  if (failed) std::rethrow_exception(failed);
  if (exit_ != H1Exit::Closed) co_return exit_;
  boost::system::error_code ignored;
  tcp_of(socket_).shutdown(asio::socket_base::shutdown_both, ignored);
  tcp_of(socket_).close(ignored);
  co_return H1Exit::Closed;
}

template <typename Stream>
void BasicH1Connection<Stream>::drain() {
  draining_ = true;
  if (idle_) {
    boost::system::error_code ignored;
    tcp_of(socket_).cancel(ignored);
  }
}

template <typename Stream>
void BasicH1Connection<Stream>::park() {
  parking_ = true;
  boost::system::error_code ignored;
  tcp_of(socket_).cancel(ignored);
}

template <typename Stream>
void BasicH1Connection<Stream>::arm_deadline(SteadyClock::time_point deadline,
                                             ports::UpstreamStream* upstream) {
  watched_upstream_ = upstream;
  deadline_ = deadline;
  // Only a deadline earlier than the timer's own expiry needs the timer moved; any later one
  // is picked up when the watchdog wakes and finds it not reached yet. So a request re-arms
  // without a timer syscall (the timer already sits at an earlier route timeout).
  if (deadline < timer_.expiry()) timer_.cancel();
}

template <typename Stream>
void BasicH1Connection<Stream>::arm_watchdog() {
  timer_.expires_at(deadline_);
  timer_.async_wait([this](boost::system::error_code) { watchdog_fired(); });
}

template <typename Stream>
void BasicH1Connection<Stream>::watchdog_fired() {
  if (closed_) {
    watchdog_running_ = false;
    watchdog_exit_.cancel();
    return;
  }
  if (SteadyClock::now() >= deadline_) {
    expired_ = true;
    boost::system::error_code ignored;
    tcp_of(socket_).cancel(ignored);
    if (watched_upstream_) watched_upstream_->cancel();
    deadline_ = SteadyClock::time_point::max();
  }
  arm_watchdog();
}

template <typename Stream>
void BasicH1Connection<Stream>::take_in_flight() {
  in_.take();
  if (!live_) {
    live_ = H1InFlightPool::local().take();
    std::swap(request_.headers, live_->headers);  // the request parses into pooled storage
  }
}

template <typename Stream>
void BasicH1Connection<Stream>::go_idle() {
  in_begin_ = in_end_ = 0;
  in_.give_back();
  if (!live_) return;
  request_.clear();  // its fields pointed into the buffer just given back
  std::swap(request_.headers, live_->headers);
  live_->out.clear();
  H1InFlightPool::local().give(std::move(live_));
}

template <typename Stream>
boost::asio::mutable_buffer BasicH1Connection<Stream>::read_space() {
  if (!in_.held()) take_in_flight();
  if (in_end_ == in_.size()) {
    if (in_begin_ > 0) {
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    } else {
      // Only a head can fill the whole buffer; the parser bounds it by max_header_bytes.
      in_.grow(in_end_);
    }
  }
  return asio::buffer(in_.data() + in_end_, in_.size() - in_end_);
}

template <typename Stream>
bool BasicH1Connection<Stream>::begin_head() {
  parser_.reset();
  request_.clear();
  idle_ = in_begin_ == in_end_;
  expired_ = false;
  watched_upstream_ = nullptr;
  if (idle_) {
    // Each request is read from the buffer's start: appended after the last one instead, a
    // keep-alive connection walked through all 16 KiB of it, a cold cache line or two per
    // request (1 MiB of them for 64 connections).
    in_begin_ = in_end_ = 0;
    if (draining_) return false;
    // A new connection has header_timeout for its first request, from accept: one that never
    // sends anything is not held for the keep-alive idle timeout.
    arm_deadline(
        ports::deadline_now() + (first_request_ ? limits_.header_timeout : limits_.idle_timeout),
        nullptr);
  } else {
    arm_deadline(ports::deadline_now() + limits_.header_timeout, nullptr);
  }
  return true;
}

template <typename Stream>
std::optional<typename BasicH1Connection<Stream>::HeadOutcome>
BasicH1Connection<Stream>::parse_buffered_head() {
  // RFC 9112 §2.2: empty lines before a request line are ignored (a request line never starts
  // with CR, so this only ever skips what precedes one).
  while (in_end_ - in_begin_ >= 2 && in_.data()[in_begin_] == '\r' &&
         in_.data()[in_begin_ + 1] == '\n') {
    in_begin_ += 2;
  }
  if (in_begin_ == in_end_ || (in_end_ - in_begin_ == 1 && in_.data()[in_begin_] == '\r')) {
    return std::nullopt;
  }
  const std::string_view buffered(in_.data() + in_begin_, in_end_ - in_begin_);
  if (h2c_ && first_request_) {
    // RFC 9113 §3.3: prior knowledge starts with the connection preface.
    const size_t n = std::min(buffered.size(), kHttp2Preface.size());
    if (buffered.substr(0, n) == kHttp2Preface.substr(0, n)) {
      if (n == kHttp2Preface.size()) return HeadOutcome::Http2Preface;
      return std::nullopt;
    }
  }
  const h1::HeadResult r = parser_.parse_head(buffered);
  if (r.status == h1::ParseStatus::Done) {
    parser_.request_head(buffered, request_);
    in_begin_ += r.consumed;
    if (h2c_ && first_request_ && wants_h2c_upgrade()) {
      // Checked before the 101: afterwards the only answer left would be a silent close.
      const auto settings = core::http::find_header(request_.headers, "http2-settings");
      if (!h2::decode_http2_settings(settings.value_or(""))) {
        parse_error_ = {ErrorKind::BadRequest, "malformed HTTP2-Settings"};
        return HeadOutcome::Malformed;
      }
      return HeadOutcome::UpgradeH2c;
    }
    first_request_ = false;
    return HeadOutcome::Request;
  }
  if (r.status == h1::ParseStatus::Error) {
    parse_error_ = r.error;
    return HeadOutcome::Malformed;
  }
  return std::nullopt;
}

template <typename Stream>
void BasicH1Connection<Stream>::received(size_t n) {
  in_end_ += n;
  if (n > 0 && idle_) {
    idle_ = false;
    arm_deadline(ports::deadline_now() + limits_.header_timeout, nullptr);
  }
}

template <typename Stream>
std::optional<typename BasicH1Connection<Stream>::HeadOutcome>
BasicH1Connection<Stream>::try_read_head() {
  if (!begin_head()) return HeadOutcome::Closed;
  if (auto outcome = parse_buffered_head()) return outcome;
  const auto got = recv_now(socket_, read_space());
  // Nothing yet, the peer's end or an error: read_head waits, or meets it again and says so.
  if (!got || std::get<0>(*got)) return std::nullopt;
  received(std::get<1>(*got));
  return parse_buffered_head();
}

template <typename Stream>
ports::Awaitable<typename BasicH1Connection<Stream>::HeadOutcome>
BasicH1Connection<Stream>::read_head() {
  for (;;) {
    if (auto outcome = parse_buffered_head()) co_return *outcome;
    if (sent_since_read_) {
      sent_since_read_ = false;
      co_await ports::yield_after_send(socket_.get_executor());
    }
    boost::system::error_code ec;
    size_t n = 0;
    if (in_begin_ == in_end_) {
      // Invariant 3: nothing buffered, so wait for readiness holding no buffer, then read what
      // came. A TLS record without application data (a key update) finds nothing: wait again.
      go_idle();
      std::tie(ec) = co_await wait_readable(socket_);
      if (!ec) {
        const auto got = recv_now(socket_, read_space());
        if (!got) continue;
        std::tie(ec, n) = *got;
      }
    } else {
      std::tie(ec, n) = co_await read_more();
    }
    received(n);
    if (ec) co_return read_failed();
  }
}

template <typename Stream>
typename BasicH1Connection<Stream>::HeadOutcome BasicH1Connection<Stream>::read_failed() {
  if (expired_ && !idle_) {
    parse_error_ = {ErrorKind::RequestTimeout, "request head timed out"};
    return HeadOutcome::Malformed;
  }
  return HeadOutcome::Closed;  // peer gone, idle timeout or drain: nobody to answer
}

template <typename Stream>
ports::Awaitable<void> BasicH1Connection<Stream>::answer_parse_error(const Error& error) {
  close_after_response_ = true;
  request_wants_close_ = true;
  take_in_flight();  // a head that timed out after its leading empty lines may have given it back
  const std::string body = core::http::error_body(error);
  static const core::http::HeaderList kNone;
  arm_deadline(ports::deadline_now() + limits_.header_timeout, nullptr);
  expired_ = false;
  co_await send_local(core::http::status_for(error.kind), "application/json", body, kNone);
}

template <typename Stream>
bool BasicH1Connection<Stream>::wants_h2c_upgrade() const {
  // Only a body-less request can switch: its body would otherwise have to be replayed as
  // HTTP/2 DATA (RFC 7540 §3.2 lets a server ignore the upgrade).
  if (request_.framing != BodyFraming::None || request_.version_minor == 0) return false;
  const auto upgrade = core::http::find_header(request_.headers, "upgrade");
  const auto connection = core::http::find_header(request_.headers, "connection");
  return upgrade && core::http::list_contains(*upgrade, "h2c") && connection &&
         core::http::list_contains(*connection, "http2-settings") &&
         core::http::find_header(request_.headers, "http2-settings").has_value();
}

template <typename Stream>
bool BasicH1Connection<Stream>::keep_alive_after_response() const {
  return !close_after_response_ && !request_wants_close_ && !draining_ && body_done_;
}

template <typename Stream>
std::string_view BasicH1Connection<Stream>::connection_field() const {
  if (!keep_alive_after_response()) return "close";
  // RFC 9112 §9.3: HTTP/1.0 closes unless told otherwise, so its keep-alive is said out loud.
  return request_.version_minor == 0 ? "keep-alive" : "";
}

template <typename Stream>
ports::Awaitable<void> BasicH1Connection<Stream>::serve() {
  for (;;) {
    // Right after a response the next request cannot be here yet: the other ready connections
    // go first, after which it usually is, and try_read_head takes it without a coroutine frame.
    if (sent_since_read_ && in_begin_ == in_end_) {
      sent_since_read_ = false;
      co_await ports::yield_after_send(socket_.get_executor());
    }
    auto quick = try_read_head();
    while (!quick && in_begin_ == in_end_) {
      // Invariant 3: the idle wait, holding no buffer, in this frame rather than read_head's
      // (an idle connection keeps one coroutine frame fewer, a busy one allocates one less).
      go_idle();
      // Between requests, the wait is listed for the sweep, which parks it when it lasts.
      const bool listed =
          idle_connections_ && !first_request_ && IdleConnections::parkable(limits_.idle_timeout);
      if (listed) idle_connections_->waiting(*this, ports::deadline_now());
      auto [ec] = co_await wait_readable(socket_);
      if (listed) IdleLink::unlink();
      if (ec) {
        if (std::exchange(parking_, false) && !draining_ && !expired_) {
          exit_ = H1Exit::Parked;
          co_return;
        }
        quick = read_failed();
        break;
      }
      parking_ = false;  // bytes came as the sweep asked to park: they are served here
      const auto got = recv_now(socket_, read_space());
      if (!got) continue;  // a TLS record without application data: wait again
      const auto& [read_ec, n] = *got;
      received(n);
      quick = read_ec ? read_failed() : parse_buffered_head();
    }
    HeadOutcome outcome;
    if (quick) {
      outcome = *quick;
    } else {
      outcome = co_await read_head();
    }
    if (outcome == HeadOutcome::Malformed) {
      co_await answer_parse_error(parse_error_);
      co_return;
    }
    if (outcome == HeadOutcome::Http2Preface) {
      exit_ = H1Exit::Http2Preface;
      co_return;
    }
    if (outcome == HeadOutcome::UpgradeH2c) {
      // RFC 7540 §3.2: 101, then the server's preface; the request becomes stream 1.
      live_->out.append(
          "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n");
      if (co_await write_out({})) exit_ = H1Exit::UpgradeH2c;
      co_return;
    }
    if (outcome != HeadOutcome::Request) co_return;
    idle_ = false;
    response_started_ = false;
    response_complete_ = false;
    response_chunked_ = false;
    response_has_body_ = request_.method != "HEAD";
    close_after_response_ = false;
    continue_sent_ = false;
    body_done_ = request_.framing == BodyFraming::None;
    // HTTP/1.0 closes unless it asked for keep-alive; 1.1 keeps alive unless it asked to close.
    const auto connection = core::http::find_header(request_.headers, "connection");
    request_wants_close_ =
        request_.version_minor == 0
            ? !(connection && core::http::list_contains(*connection, "keep-alive"))
            : (connection && core::http::list_contains(*connection, "close"));
    co_await proxy::serve_stream(*this, worker_);
    // A response that could not be finished (upstream failed mid-body) ends the connection:
    // the client sees the truncation instead of waiting for bytes that will never come.
    if (!response_complete_ || !keep_alive_after_response()) co_return;
  }
}

template <typename Stream>
bool BasicH1Connection<Stream>::gather_out(std::span<const std::string_view> body) {
  live_->gather.clear();
  if (!live_->out.empty()) live_->gather.emplace_back(live_->out.data(), live_->out.size());
  for (auto piece : body) {
    if (!piece.empty()) live_->gather.emplace_back(piece.data(), piece.size());
  }
  return !live_->gather.empty();
}

template <typename Stream>
core::Result<void, Error> BasicH1Connection<Stream>::finish_write(
    const std::tuple<boost::system::error_code, size_t>& written) {
  live_->out.clear();
  if (std::get<0>(written)) {
    close_after_response_ = true;
    return core::unexpected(Error{ErrorKind::DownstreamClosed, "client write failed"});
  }
  return {};
}

template <typename Stream>
core::Result<void, Error> BasicH1Connection<Stream>::finish_body_write(
    const ports::BodyChunk& chunk, const std::tuple<boost::system::error_code, size_t>& written) {
  auto result = finish_write(written);
  if (result && chunk.last) response_complete_ = true;
  return result;
}

template <typename Stream>
ports::AsyncResult<void> BasicH1Connection<Stream>::write_out(
    std::span<const std::string_view> body) {
  if (!gather_out(body)) co_return core::Result<void, Error>{};
  if (auto sent = send_now(socket_, live_->gather)) {
    sent_since_read_ = true;
    co_return finish_write(*sent);
  }
  co_return finish_write(co_await write_gathered());
}

template <typename Stream>
ports::AsyncResult<void> BasicH1Connection<Stream>::send_continue() {
  // An HTTP/1.0 client knows no 1xx (RFC 9110 §10.1.1): it sends its body without waiting.
  if (!request_.expect_continue || continue_sent_ || body_done_ || request_.version_minor == 0) {
    co_return core::Result<void, Error>{};
  }
  continue_sent_ = true;
  live_->out.append(kContinue);
  co_return co_await write_out({});
}

template <typename Stream>
ports::AsyncResult<ports::BodyChunk> BasicH1Connection<Stream>::read_body() {
  static const std::vector<std::string_view> kNoPieces;
  if (body_done_) co_return ports::BodyChunk{{}, true, nullptr};
  for (;;) {
    const h1::BodyResult r =
        parser_.parse_body(std::string_view(in_.data() + in_begin_, in_end_ - in_begin_));
    if (r.status == h1::ParseStatus::Error) {
      close_after_response_ = true;
      co_return core::unexpected(r.error);
    }
    in_begin_ += r.consumed;
    const auto& pieces = parser_.body_pieces();
    if (r.status == h1::ParseStatus::Done) {
      body_done_ = true;
      co_return ports::BodyChunk{pieces, true,
                                 parser_.trailers().empty() ? nullptr : &parser_.trailers()};
    }
    if (!pieces.empty()) co_return ports::BodyChunk{pieces, false, nullptr};
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;  // releases the pieces handed out last
    if (sent_since_read_) {
      sent_since_read_ = false;
      co_await ports::yield_after_send(socket_.get_executor());
    }
    auto [ec, n] = co_await read_more();
    in_end_ += n;
    if (ec) {
      close_after_response_ = true;
      if (expired_) co_return core::unexpected(Error{ErrorKind::RequestTimeout, "body timed out"});
      co_return core::unexpected(
          Error{ErrorKind::DownstreamClosed, "client closed before the body ended"});
    }
  }
}

template <typename Stream>
ports::AsyncResult<void> BasicH1Connection<Stream>::send_interim(
    const core::http::ResponseHead& head) {
  if (request_.version_minor == 0) co_return core::Result<void, Error>{};  // 1.0 knows no 1xx
  h1::append_response_head(live_->out, head, BodyFraming::None, {});
  co_return co_await write_out({});
}

template <typename Stream>
void BasicH1Connection<Stream>::add_alt_svc() {
  if (alt_svc_.empty()) return;
  // The head just appended ends the output with its blank line: the field goes before it.
  std::string& out = live_->out;
  out.resize(out.size() - 2);
  out.append("alt-svc: ").append(alt_svc_).append("\r\n\r\n");
}

template <typename Stream>
core::Result<void, Error> BasicH1Connection<Stream>::send_head(
    const core::http::ResponseHead& head) {
  response_started_ = true;
  if (head.status == 101) {
    h1::append_response_head(live_->out, head, BodyFraming::None, "upgrade");
    return {};  // written when the tunnel starts
  }
  const BodyFraming upstream_framing = head.framing;
  BodyFraming framing = upstream_framing;
  response_has_body_ = response_has_body_ && upstream_framing != BodyFraming::None;
  if (upstream_framing == BodyFraming::Chunked || upstream_framing == BodyFraming::UntilClose) {
    if (request_.version_minor >= 1) {
      framing = BodyFraming::Chunked;
      response_chunked_ = response_has_body_;
    } else {
      framing = BodyFraming::UntilClose;  // HTTP/1.0: the close ends the body
      close_after_response_ = true;
    }
  }
  if (request_.method == "HEAD" && upstream_framing != BodyFraming::ContentLength) {
    framing = upstream_framing == BodyFraming::None ? BodyFraming::None : BodyFraming::UntilClose;
  }
  // The answer may come before the request body was read (an early error): then the
  // connection cannot be reused (invariant 2).
  h1::append_response_head(live_->out, head, framing, connection_field());
  add_alt_svc();
  return {};  // written with the first body bytes
}

template <typename Stream>
bool BasicH1Connection<Stream>::gather_chunked(const ports::BodyChunk& chunk) {
  // Chunk framing: small headers in a reused array, body bytes gathered zero-copy.
  live_->gather.clear();
  if (!live_->out.empty()) live_->gather.emplace_back(live_->out.data(), live_->out.size());
  if (live_->chunk_headers.size() < chunk.pieces.size())
    live_->chunk_headers.resize(chunk.pieces.size());
  size_t i = 0;
  for (auto piece : chunk.pieces) {
    if (piece.empty()) continue;
    auto& header = live_->chunk_headers[i++];
    live_->gather.emplace_back(header.data(), h1::chunk_header(header.data(), piece.size()));
    live_->gather.emplace_back(piece.data(), piece.size());
    live_->gather.emplace_back(h1::kCrlf.data(), h1::kCrlf.size());
  }
  if (chunk.last) {
    static const core::http::HeaderList kNone;
    live_->chunk_tail.clear();
    h1::append_last_chunk(live_->chunk_tail, chunk.trailers ? *chunk.trailers : kNone);
    live_->gather.emplace_back(live_->chunk_tail.data(), live_->chunk_tail.size());
  }
  return !live_->gather.empty();
}

template <typename Stream>
std::optional<core::Result<void, Error>> BasicH1Connection<Stream>::try_send_body(
    const ports::BodyChunk& chunk) {
  bool any;
  if (response_has_body_ && response_chunked_) {
    any = gather_chunked(chunk);
  } else {
    any = response_has_body_ ? gather_out(chunk.pieces) : chunk.last && gather_out({});
  }
  if (!any) return finish_body_write(chunk, SendResult{});
  if (auto sent = send_now(socket_, live_->gather)) {
    sent_since_read_ = true;
    return finish_body_write(chunk, *sent);
  }
  rest_pending_ = true;
  return std::nullopt;
}

template <typename Stream>
ports::AsyncResult<void> BasicH1Connection<Stream>::send_body(const ports::BodyChunk& chunk) {
  if (!rest_pending_) {
    if (auto done = try_send_body(chunk)) co_return *done;
  }
  // What the socket did not take at once (all of it on TLS, which never writes at once).
  rest_pending_ = false;
  co_return finish_body_write(chunk, co_await write_gathered());
}

template <typename Stream>
ports::AsyncResult<void> BasicH1Connection<Stream>::send_local(
    uint16_t status, std::string_view content_type, std::string_view body,
    const core::http::HeaderList& extra) {
  if (response_started_ && !response_started()) {
    // A head queued by send_head never went out (its body failed first): this answer replaces
    // it, so the client gets a whole error instead of an empty close.
    live_->out.clear();
    response_chunked_ = false;
  }
  response_started_ = true;
  core::http::ResponseHead head;
  head.status = status;
  head.headers = extra;
  if (!content_type.empty()) head.headers.push_back({"content-type", content_type});
  head.framing = BodyFraming::ContentLength;
  head.content_length = body.size();
  if (!keep_alive_after_response()) close_after_response_ = true;
  h1::append_response_head(live_->out, head, head.framing, connection_field());
  add_alt_svc();
  const std::string_view pieces[] = {request_.method == "HEAD" ? std::string_view{} : body};
  auto written = co_await write_out(pieces);
  response_complete_ = written.has_value();
  co_return written;
}

template <typename Stream>
ports::Awaitable<void> BasicH1Connection<Stream>::tunnel(ports::UpstreamStream& upstream) {
  close_after_response_ = true;
  // A tunnel lives while bytes flow in either direction; idle_timeout of silence ends it.
  const auto idle = limits_.idle_timeout;
  arm_deadline(ports::deadline_now() + idle, &upstream);
  live_->out.append(upstream.take_leftover());  // after the 101 head send_head left in live_->out
  if (!live_->out.empty()) {
    const auto written = co_await write_out({});
    if (!written) co_return;
  }
  if (in_begin_ != in_end_) {
    auto ec = co_await upstream.write_raw({in_.data() + in_begin_, in_end_ - in_begin_});
    in_begin_ = in_end_ = 0;
    if (ec) co_return;
  }
  take_in_flight();  // the tunnel's client-to-upstream buffer
  auto client_to_upstream = [&]() -> ports::Awaitable<void> {
    for (;;) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.data(), in_.size()),
                                                      ports::kDeferTuple);
      if (ec) co_return;
      arm_deadline(ports::deadline_now() + idle, &upstream);
      if (co_await upstream.write_raw({in_.data(), n})) co_return;
    }
  };
  auto upstream_to_client = [&]() -> ports::Awaitable<void> {
    std::vector<char> buffer(16 * 1024);
    for (;;) {
      auto [ec, n] = co_await upstream.read_raw(buffer);
      if (ec) co_return;
      arm_deadline(ports::deadline_now() + idle, &upstream);
      auto [wec, wn] =
          co_await asio::async_write(socket_, asio::buffer(buffer.data(), n), ports::kDeferTuple);
      if (wec) co_return;
    }
  };
  co_await (client_to_upstream() || upstream_to_client());
}

template class BasicH1Connection<Socket>;
template class BasicH1Connection<TlsStream>;

}  // namespace vx::adapters::net
