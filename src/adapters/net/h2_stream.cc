#include "adapters/net/h2_stream.h"

#include <openssl/evp.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <charconv>
#include <cstring>
#include <vector>

#include "adapters/codec/h2/request_head.h"
#include "adapters/net/h2_connection.h"
#include "ports/deadline_clock.h"
#include "proxy/pipeline.h"

namespace vx::adapters::net {

using core::http::BodyFraming;
using core::http::Error;
using core::http::ErrorKind;
using SteadyClock = std::chrono::steady_clock;

namespace {}  // namespace

H2Stream::H2Stream(H2Downstream& connection, int32_t id, h2::HeaderBlock& block, bool end_stream)
    : connection_(connection), signal_(connection.executor()), body_signal_(connection.executor()) {
  begin(id, block, end_stream);
}

void H2Stream::restart(int32_t id, h2::HeaderBlock& block, bool end_stream) {
  request_.clear();
  scratch_.clear();
  body_.clear();
  request_trailer_block_.clear();
  response_started_ = false;
  has_body_ = false;
  continue_sent_ = false;
  out_.clear();
  scratch_headers_.clear();
  closed_ = false;
  close_code_ = 0;
  begin(id, block, end_stream);
}

size_t H2Stream::buffer_bytes() const {
  return head_block_.bytes.capacity() + body_.capacity() + out_.bytes.capacity() +
         scratch_.capacity() + request_trailer_block_.bytes.capacity() +
         out_.trailer_block.bytes.capacity();
}

void H2Stream::begin(int32_t id, h2::HeaderBlock& block, bool end_stream) {
  id_ = id;
  head_block_.clear();
  std::swap(head_block_, block);
  deadline_.reset(ports::deadline_now() + connection_.limits().header_timeout);
  if (end_stream) body_.end();
  websocket_ = false;
  // Only RFC 8441's extended CONNECT for WebSocket: Vortex is no forward proxy.
  static const Error kNotWebSocket{ErrorKind::BadRequest,
                                   "CONNECT is only supported for WebSocket"};
  malformed_ = h2::check_request_head(head_block_, head_block_.find(":protocol") == "websocket"
                                                       ? std::nullopt
                                                       : std::optional(kNotWebSocket));
  if (malformed_) return;
  h2::read_request_head(head_block_, end_stream, cookie_, request_);
  if (request_.method == "CONNECT") begin_websocket();
}

namespace {

std::string base64(const unsigned char* bytes, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes, static_cast<int>(n));
  out.resize(static_cast<size_t>(written));
  return out;
}

// RFC 6455 §4.2.2: base64(SHA-1(key + the protocol's GUID)).
std::string websocket_accept(std::string_view key) {
  std::string input(key);
  input.append("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha1(), nullptr);
  return base64(digest, size);
}

}  // namespace

void H2Stream::begin_websocket() {
  websocket_ = true;
  request_.method = "GET";
  request_.upgrade = true;
  // The stream's DATA is the tunnel's bytes, not a request body.
  request_.framing = BodyFraming::None;
  unsigned char nonce[16];
  for (size_t i = 0; i < sizeof nonce; i += 8) {
    const uint64_t bits = connection_.worker().random.next();
    std::memcpy(nonce + i, &bits, 8);
  }
  websocket_key_ = base64(nonce, sizeof nonce);
  request_.headers.push_back({"upgrade", "websocket"});
  request_.headers.push_back({"connection", "upgrade"});
  request_.headers.push_back({"sec-websocket-key", websocket_key_});
}

bool H2Stream::accept_websocket(const core::http::ResponseHead& head) {
  const auto accept = core::http::find_header(head.headers, "sec-websocket-accept");
  return accept && *accept == websocket_accept(websocket_key_);
}

std::string_view H2Stream::client_ip() const {
  return connection_.client_ip();
}

ports::ConnectionFacts H2Stream::connection_facts() const {
  return connection_.facts().get(connection_.client_ip(), "HTTP/2");
}
std::string_view H2Stream::listener() const {
  return connection_.facts().listener();
}
bool H2Stream::tls() const {
  return connection_.tls();
}
std::chrono::milliseconds H2Stream::idle_timeout() const {
  return connection_.limits().idle_timeout;
}

ports::Awaitable<void> H2Stream::run() {
  if (malformed_) {
    const std::string body = core::http::error_body(*malformed_);
    static const core::http::HeaderList kNone;
    co_await send_local(core::http::status_for(malformed_->kind), "application/json", body, kNone);
  } else {
    co_await proxy::serve_stream(*this, connection_.worker());
  }
  if (response_started_ && has_body_ && !out_.eof && !closed_) {
    // The pipeline gave up mid-response (the upstream failed after its head): the client
    // learns it now, not after the idle timeout.
    connection_.session().reset(id_, NGHTTP2_INTERNAL_ERROR);
    connection_.wake_writer();
    closed_ = true;
  }
  // Invariant 3 also bounds the flush: no progress for idle_timeout resets the stream.
  size_t last_at = out_.at;
  auto stall_deadline = ports::deadline_now() + idle_timeout();
  while (response_started_ && !out_.done && !closed_) {
    if (!co_await wait(stall_deadline)) {
      if (out_.at == last_at) break;
    }
    if (out_.at != last_at) {
      last_at = out_.at;
      stall_deadline = ports::deadline_now() + idle_timeout();
    }
  }
  const bool complete = out_.done || (response_started_ && !has_body_);
  if (complete) {
    // nghttp2 sends RST_STREAM ahead of frames still queued: a response without a body (say a
    // gRPC trailers-only error) must be out before a reset, or the client sees only the reset.
    // Once it is out and the request ended too, nghttp2 closes the stream by itself.
    while (!closed_ && !connection_.session().local_closed(id_) &&
           SteadyClock::now() < stall_deadline) {
      connection_.notify_after_produce(id_);
      connection_.wake_writer();
      co_await wait(stall_deadline);
    }
  }
  if (!closed_) {
    // Unfinished response (stall, pipeline abort) or a request body nobody will read
    // (RFC 9113 §8.1: the server may reset with NO_ERROR once its response is complete).
    connection_.session().reset(id_, complete ? NGHTTP2_NO_ERROR : NGHTTP2_INTERNAL_ERROR);
  }
  connection_.session().consume(id_, body_.unread_bytes());
}

void H2Stream::abort() {
  // The upstream exchange is not cancelled: a cancelled upstream wait reads as an upstream
  // failure and would count against the endpoint's breaker, letting any client that resets
  // streams open breakers for everyone. It ends at its own deadline or answer, and the
  // response then fails fast on closed_.
  closed_ = true;
  notify();
}

ports::Awaitable<bool> H2Stream::wait(SteadyClock::time_point until) {
  signal_.expires_at(until);
  auto [ec] = co_await signal_.async_wait(ports::kDeferTuple);
  co_return ec == boost::asio::error::operation_aborted;
}

ports::Awaitable<void> H2Stream::wait_body() {
  body_signal_.expires_at(SteadyClock::time_point::max());
  co_await body_signal_.async_wait(ports::kDeferTuple);
}

void H2Stream::arm_deadline(SteadyClock::time_point deadline, ports::UpstreamStream* upstream) {
  deadline_.arm(deadline, upstream);
  connection_.watch_deadline(deadline);
}

SteadyClock::time_point H2Stream::expire_if_due(SteadyClock::time_point now) {
  if (deadline_.expire_if_due(now)) notify();
  return deadline_.at();
}

void H2Stream::on_data(std::string_view data) {
  body_.append(data);
  notify();
}

void H2Stream::on_trailers(h2::HeaderBlock&& block) {
  request_trailer_block_ = std::move(block);
  body_.trailers().clear();
  request_trailer_block_.regular_fields(body_.trailers());
}

void H2Stream::on_end_stream() {
  body_.end();
  notify();
}

void H2Stream::on_closed(uint32_t error_code) {
  closed_ = true;
  close_code_ = error_code;
  notify();  // see abort(): the upstream wait is left to finish on its own
}

long H2Stream::pull_body(uint8_t* into, size_t max, bool& eof,
                         const core::http::HeaderList*& trailers) {
  const long n = out_.pull(into, max, eof, trailers);
  if (n >= 0) notify();  // progress: a send_body waiting above high water may go on
  return n;              // -1: nothing queued yet
}

ports::AsyncResult<ports::BodyChunk> H2Stream::read_body() {
  // Invariant 1: what the pipeline took last time is acknowledged now.
  if (const size_t taken = body_.take_credit()) {
    connection_.session().consume(id_, taken);
    connection_.wake_writer();
  }
  for (;;) {
    if (auto next = body_.next(connection_.limits().max_body_bytes, closed_, deadline_.expired())) {
      co_return std::move(*next);
    }
    co_await wait_body();
  }
}

ports::AsyncResult<void> H2Stream::send_continue() {
  if (!request_.expect_continue || continue_sent_ || body_.ended()) {
    co_return core::Result<void, Error>{};
  }
  continue_sent_ = true;
  static const core::http::HeaderList kNone;
  connection_.session().submit_interim(id_, 100, kNone);
  connection_.wake_writer();
  co_return core::Result<void, Error>{};
}

ports::AsyncResult<void> H2Stream::send_interim(const core::http::ResponseHead& head) {
  if (head.status == 101 || closed_) co_return core::Result<void, Error>{};
  connection_.session().submit_interim(id_, head.status, head.headers);
  connection_.wake_writer();
  co_return core::Result<void, Error>{};
}

core::Result<void, Error> H2Stream::send_head(const core::http::ResponseHead& head) {
  if (head.status == 101) {
    // RFC 8441 §5: the upgrade succeeded; the client hears 200 and none of HTTP/1.1's
    // handshake fields, and the stream becomes the tunnel.
    if (!websocket_ || !accept_websocket(head)) {
      return core::unexpected(
          Error{ErrorKind::UpstreamBadResponse, "upstream's WebSocket handshake is wrong"});
    }
    response_started_ = true;
    if (closed_) {
      return core::unexpected(Error{ErrorKind::DownstreamClosed, "client reset the stream"});
    }
    scratch_headers_.clear();
    for (const auto& h : head.headers) {
      if (!core::http::iequals(h.name, "sec-websocket-accept")) scratch_headers_.push_back(h);
    }
    has_body_ = true;
    if (!connection_.session().submit_response(id_, 200, scratch_headers_, true)) {
      return core::unexpected(Error{ErrorKind::DownstreamClosed, "stream refused the response"});
    }
    connection_.wake_writer();
    return {};
  }
  response_started_ = true;
  if (closed_) {
    return core::unexpected(Error{ErrorKind::DownstreamClosed, "client reset the stream"});
  }
  has_body_ = request_.method != "HEAD" && head.framing != BodyFraming::None &&
              head.status != 204 && head.status != 304;
  const core::http::HeaderList* fields = &head.headers;
  if (!connection_.alt_svc().empty()) {
    scratch_headers_ = head.headers;
    scratch_headers_.push_back({"alt-svc", connection_.alt_svc()});
    fields = &scratch_headers_;
  }
  if (!connection_.session().submit_response(id_, head.status, *fields, has_body_)) {
    return core::unexpected(Error{ErrorKind::DownstreamClosed, "stream refused the response"});
  }
  if (!has_body_) out_.done = true;
  connection_.wake_writer();
  return {};
}

ports::AsyncResult<void> H2Stream::send_body(const ports::BodyChunk& chunk) {
  if (!has_body_) co_return core::Result<void, Error>{};
  out_.queue(chunk.pieces, chunk.last, chunk.trailers);
  connection_.session().resume(id_);
  connection_.wake_writer();
  // Invariant 2: above high water, wait for the peer's window; invariant 3: not forever.
  size_t last_unsent = out_.unsent();
  auto stall_deadline = ports::deadline_now() + idle_timeout();
  while (out_.unsent() > kHighWaterBytes && !closed_) {
    const bool woken = co_await wait(stall_deadline);
    if (out_.unsent() < last_unsent) {
      last_unsent = out_.unsent();
      stall_deadline = ports::deadline_now() + idle_timeout();
    } else if (!woken && SteadyClock::now() >= stall_deadline) {
      closed_ = true;
      co_return core::unexpected(Error{ErrorKind::DownstreamClosed, "client window stalled"});
    }
  }
  if (closed_ && !out_.done) {
    co_return core::unexpected(Error{ErrorKind::DownstreamClosed, "client reset the stream"});
  }
  co_return core::Result<void, Error>{};
}

ports::AsyncResult<void> H2Stream::send_local(uint16_t status, std::string_view content_type,
                                              std::string_view body,
                                              const core::http::HeaderList& extra) {
  response_started_ = true;
  if (closed_) {
    co_return core::unexpected(Error{ErrorKind::DownstreamClosed, "client reset the stream"});
  }
  char length[24];
  const auto end = std::to_chars(length, length + sizeof length, body.size()).ptr;
  scratch_headers_ = extra;
  if (!content_type.empty()) scratch_headers_.push_back({"content-type", content_type});
  scratch_headers_.push_back({"content-length", std::string_view(length, end - length)});
  if (!connection_.alt_svc().empty())
    scratch_headers_.push_back({"alt-svc", connection_.alt_svc()});
  has_body_ = request_.method != "HEAD" && !body.empty();
  if (has_body_) {
    const std::string_view piece = body;
    out_.queue({&piece, 1}, true, nullptr);
  } else {
    out_.done = true;
  }
  connection_.session().submit_response(id_, status, scratch_headers_, has_body_);
  connection_.wake_writer();
  co_return core::Result<void, Error>{};
}

ports::Awaitable<void> H2Stream::tunnel(ports::UpstreamStream& upstream) {
  using namespace boost::asio::experimental::awaitable_operators;
  // A tunnel lives while bytes flow in either direction; idle_timeout of silence ends it.
  const auto idle = idle_timeout();
  arm_deadline(ports::deadline_now() + idle, &upstream);
  auto client_to_upstream = [&]() -> ports::Awaitable<void> {
    for (;;) {
      auto chunk = co_await read_body();
      if (!chunk) co_return;
      arm_deadline(ports::deadline_now() + idle, &upstream);
      for (auto piece : chunk->pieces) {
        if (co_await upstream.write_raw(piece)) co_return;
      }
      if (chunk->last) co_return;  // the client half-closed: RFC 8441 §5, END_STREAM = FIN
    }
  };
  auto upstream_to_client = [&]() -> ports::Awaitable<void> {
    const std::string_view leftover = upstream.take_leftover();  // bytes after the 101 head
    if (!leftover.empty() && !co_await send_body({{&leftover, 1}, false})) co_return;
    std::vector<char> buffer(16 * 1024);
    for (;;) {
      auto [ec, n] = co_await upstream.read_raw(buffer);
      if (ec) break;
      arm_deadline(ports::deadline_now() + idle, &upstream);
      const std::string_view piece(buffer.data(), n);
      if (!co_await send_body({{&piece, 1}, false})) co_return;
    }
    co_await send_body({{}, true});  // the origin closed: END_STREAM
  };
  co_await (client_to_upstream() || upstream_to_client());
  if (!out_.eof && !closed_)
    co_await send_body({{}, true});  // either side ended: so does the stream
}

}  // namespace vx::adapters::net
