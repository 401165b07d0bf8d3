#include "adapters/upstream/h2_upstream_session.h"

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include "adapters/net/buffer_pool.h"
#include "adapters/net/recv_now.h"
#include "adapters/net/stream.h"
#include "adapters/upstream/client_tls_context.h"
#include "adapters/upstream/h2_upstream_pool.h"
#include "adapters/upstream/h2_upstream_stream.h"

namespace vx::adapters::upstream {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using core::http::Error;
using core::http::ErrorKind;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadBytes = 32 * 1024;

// Vortex is the client here: the peer's streams (push) are refused by ENABLE_PUSH 0. The stream
// window bounds what one slow downstream can leave buffered (H2UpstreamStream invariant 1); the
// connection window is larger so one such stream does not stall its neighbours.
h2::H2Settings client_settings() {
  h2::H2Settings s;
  s.initial_window = 256 * 1024;
  s.connection_window = 8 << 20;
  s.max_header_list = 256 * 1024;  // upstreams are trusted more than clients, still bounded
  s.max_header_fields = 500;
  return s;
}

}  // namespace

H2UpstreamSession::H2UpstreamSession(ports::Executor executor, H2UpstreamPool& pool,
                                     const ports::UpstreamTarget& target)
    : executor_(executor),
      pool_(pool),
      endpoint_id_(target.endpoint_id),
      addresses_(target.addresses.begin(), target.addresses.end()),
      connect_timeout_(target.connect_timeout),
      idle_timeout_(target.idle_timeout),
      tls_identity_(target.tls),
      server_name_(target.server_name),
      scheme_(target.tls ? "https" : "http"),
      socket_(executor),
      codec_(h2::H2Session::Role::Client, client_settings(), *this),
      ready_signal_(executor),
      write_signal_(executor),
      last_active_(SteadyClock::now()) {
  if (target.tls) {
    tls_context_ = std::static_pointer_cast<const ClientTlsContext>(target.tls->shared_from_this());
  }
  // Waiters only wait; run() cancels once (invariant 1 of the pool: many waiters, one timer).
  ready_signal_.expires_at(SteadyClock::time_point::max());
}

H2UpstreamSession::~H2UpstreamSession() = default;

bool H2UpstreamSession::has_room() const {
  if (state_ == State::Connecting) return attached_ < expected_limit_;
  return state_ == State::Ready && attached_ < codec_.peer_max_concurrent_streams();
}

ports::AsyncResult<void> H2UpstreamSession::wait_ready() {
  while (state_ == State::Connecting) co_await ready_signal_.async_wait(ports::kDeferTuple);
  if (state_ == State::Ready) co_return core::Result<void, Error>{};
  if (state_ == State::Draining) {
    co_return core::unexpected(Error{ErrorKind::UpstreamReset, "upstream is going away"});
  }
  co_return core::unexpected(connect_error_);
}

void H2UpstreamSession::drain() {
  if (state_ == State::Ready || state_ == State::Connecting) state_ = State::Draining;
  if (attached_ == 0 && state_ != State::Dead) {
    codec_.terminate(NGHTTP2_NO_ERROR);
    wake_writer();
  }
}

ports::Awaitable<std::pair<boost::system::error_code, size_t>> H2UpstreamSession::read_some(
    std::span<char> into) {
  const auto buffer = asio::buffer(into.data(), into.size());
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(buffer, ports::kDeferTuple);
    co_return std::pair{ec, n};
  }
  auto [ec, n] = co_await socket_.async_read_some(buffer, ports::kDeferTuple);
  co_return std::pair{ec, n};
}

ports::Awaitable<boost::system::error_code> H2UpstreamSession::write_all(std::string_view bytes) {
  const auto buffer = asio::buffer(bytes.data(), bytes.size());
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, buffer, ports::kDeferTuple);
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(socket_, buffer, ports::kDeferTuple);
  co_return ec;
}

ports::AsyncResult<void> H2UpstreamSession::establish() {
  Error last{ErrorKind::UpstreamConnectRefused, "no address to connect to"};
  bool connected = false;
  for (const auto& address : addresses_) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    auto [ec] = co_await socket_.async_connect(address, ports::kUseTuple);
    if (!ec) {
      connected = true;
      break;
    }
    last = {ErrorKind::UpstreamConnectRefused, "upstream refused the connection"};
  }
  if (!connected) co_return core::unexpected(last);
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (tls_context_) {
    tls_.emplace(std::move(socket_), tls_context_->context());
    if (!tls_context_->prepare(tls_->native_handle(), server_name_)) {
      co_return core::unexpected(
          Error{ErrorKind::UpstreamConnectRefused, "upstream TLS setup failed"});
    }
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, ports::kUseTuple);
    if (ec) {
      co_return core::unexpected(Error{ErrorKind::UpstreamConnectRefused,
                                       "upstream TLS handshake or certificate check failed"});
    }
    if (!tls_context_->negotiated_ok(tls_->native_handle())) {
      co_return core::unexpected(
          Error{ErrorKind::UpstreamConnectRefused, "upstream did not negotiate h2 (ALPN)"});
    }
  }
  // The client preface and SETTINGS, then the server's first frames (its SETTINGS): only a
  // peer that answers in HTTP/2 gets streams (invariant 1).
  out_.clear();
  codec_.produce(out_);
  if (auto ec = co_await write_all(out_); ec) {
    co_return core::unexpected(Error{ErrorKind::UpstreamConnectRefused, "upstream write failed"});
  }
  out_.clear();
  std::vector<char> buffer(kReadBytes);
  auto [ec, n] = co_await read_some(buffer);
  if (n == 0 || !codec_.receive({buffer.data(), n}, SteadyClock::now())) {
    co_return core::unexpected(
        Error{ErrorKind::UpstreamConnectRefused, "upstream did not answer in HTTP/2"});
  }
  co_return core::Result<void, Error>{};
}

ports::AsyncResult<void> H2UpstreamSession::connect() {
  H2Timer deadline(executor_);
  deadline.expires_after(connect_timeout_);
  auto outcome = co_await (establish() || deadline.async_wait(ports::kUseTuple));
  if (outcome.index() == 1) {
    co_return core::unexpected(
        Error{ErrorKind::UpstreamConnectTimeout, "upstream connect timed out"});
  }
  co_return std::get<0>(outcome);
}

ports::Awaitable<void> H2UpstreamSession::run() {
  auto connected = co_await connect();
  if (!connected) {
    connect_error_ = connected.error();
    state_ = State::Dead;
  } else if (state_ == State::Connecting) {
    state_ = State::Ready;
  }
  ready_signal_.cancel();
  if (state_ != State::Dead) {
    wake_writer();  // the SETTINGS ack and the first requests
    co_await (reader() || writer() || watchdog());
  }
  state_ = State::Dead;
  fail_all();
  boost::system::error_code ignored;
  tcp().close(ignored);
  run_done_ = true;
}

ports::Awaitable<void> H2UpstreamSession::reader() {
  // A pooled session is idle most of its life: it reads what is there into a worker pool
  // buffer and waits for more without one, as a downstream connection does.
  net::LentBuffer buffer;
  size_t turn_bytes = 0;
  for (;;) {
    buffer.take();
    const auto into = asio::buffer(buffer.data(), buffer.size());
    if (auto got = tls_ ? net::recv_now(*tls_, into) : net::recv_now(socket_, into)) {
      auto [ec, n] = *got;
      if (n > 0 && !codec_.receive({buffer.data(), n}, SteadyClock::now())) {
        wake_writer();  // flush our GOAWAY, then the writer ends the session
        co_return;
      }
      if (ec) co_return;
      wake_writer();  // WINDOW_UPDATE, SETTINGS and PING acks, resumed DATA
      if (n == buffer.size()) {
        // More is likely there. Up to kReadBytes a turn, so the streams pass on body in pieces
        // that size; then the worker's other coroutines get a turn.
        turn_bytes += n;
        if (turn_bytes >= kReadBytes) {
          turn_bytes = 0;
          co_await asio::post(executor_, asio::deferred);
        }
        continue;
      }
    }
    turn_bytes = 0;
    buffer.give_back();
    auto [ec] = tls_ ? co_await net::wait_readable(*tls_) : co_await net::wait_readable(socket_);
    if (ec) co_return;
  }
}

ports::Awaitable<void> H2UpstreamSession::writer() {
  for (;;) {
    out_.clear();
    const bool ok = codec_.produce(out_);
    if (!out_.empty()) {
      if (auto ec = co_await write_all(out_); ec) co_return;
      continue;
    }
    if (!ok || codec_.finished() || codec_.fatal()) co_return;
    write_signal_.expires_at(SteadyClock::time_point::max());
    co_await write_signal_.async_wait(ports::kDeferTuple);
  }
}

ports::Awaitable<void> H2UpstreamSession::watchdog() {
  H2Timer tick(executor_);
  const auto period = std::clamp<std::chrono::milliseconds>(
      idle_timeout_ / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  for (;;) {
    tick.expires_after(period);
    co_await tick.async_wait(ports::kUseTuple);
    if (attached_ != 0) continue;
    const auto idle = SteadyClock::now() - last_active_;
    if (idle >= idle_timeout_) {
      // pool.idle_timeout_ms: an unused connection says goodbye (GOAWAY NO_ERROR).
      state_ = State::Draining;
      codec_.terminate(NGHTTP2_NO_ERROR);
      wake_writer();
    } else if (idle >= period) {
      release_idle_memory();
    }
  }
}

void H2UpstreamSession::release_idle_memory() {
  codec_.release_idle_buffers();
  // Its bucket array (a map never used has none); every tick while idle comes here.
  if (streams_.empty() && streams_.bucket_count() > 1) decltype(streams_)().swap(streams_);
  // Empty between writes only: the writer clears it before it packs the next frames.
  if (out_.empty() && out_.capacity() > std::string().capacity()) std::string().swap(out_);
}

void H2UpstreamSession::fail_all() {
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) stream->on_connection_lost(id > goaway_last_id_);
}

core::Result<int32_t, Error> H2UpstreamSession::open_stream(H2UpstreamStream& stream,
                                                            const core::http::RequestHead& head) {
  if (state_ != State::Ready) {
    return core::unexpected(Error{ErrorKind::UpstreamReset, "upstream connection is going away"});
  }
  // The authority goes in :authority only (RFC 9113 §8.3.1); H2Session drops Host and the
  // connection-specific fields and lower-cases names.
  const int32_t id =
      codec_.submit_request(head.method, scheme_, head.authority, head.target, head.headers,
                            head.framing != core::http::BodyFraming::None);
  if (id < 0) {
    // Stream ids exhausted (2^31) or the session closing: a new connection takes over.
    state_ = State::Draining;
    return core::unexpected(Error{ErrorKind::UpstreamReset, "upstream connection is going away"});
  }
  streams_[id] = &stream;
  ++streams_opened_;
  wake_writer();
  return id;
}

void H2UpstreamSession::detach(H2UpstreamStream& stream) {
  const int32_t id = stream.id();
  if (id > 0) {
    if (state_ != State::Dead) {
      codec_.consume(id, stream.unacknowledged());  // H2UpstreamStream invariant 3
      if (!stream.closed()) codec_.reset(id, NGHTTP2_CANCEL);
    }
    streams_.erase(id);
  }
  --attached_;
  last_active_ = SteadyClock::now();
  if (state_ == State::Draining && attached_ == 0) {
    codec_.terminate(NGHTTP2_NO_ERROR);
  }
  wake_writer();
  if (attached_ == 0) pool_.on_session_idle(*this);
}

void H2UpstreamSession::on_headers(int32_t stream_id, h2::HeaderBlock& block, bool end_stream) {
  if (H2UpstreamStream* s = find(stream_id)) s->on_headers(block, end_stream);
}

void H2UpstreamSession::on_data(int32_t stream_id, std::string_view data) {
  if (H2UpstreamStream* s = find(stream_id)) {
    s->on_data(data);
  } else {
    codec_.consume(stream_id, data.size());  // nobody reads it: keep the connection window open
  }
}

void H2UpstreamSession::on_end_stream(int32_t stream_id) {
  if (H2UpstreamStream* s = find(stream_id)) s->on_end_stream();
}

void H2UpstreamSession::on_stream_close(int32_t stream_id, uint32_t error_code) {
  H2UpstreamStream* s = find(stream_id);
  if (!s) return;
  // Invariant 2: REFUSED_STREAM, or closed by the peer's GOAWAY, means never processed.
  s->on_closed(error_code, error_code == NGHTTP2_REFUSED_STREAM || stream_id > goaway_last_id_);
}

long H2UpstreamSession::on_send_body(int32_t stream_id, uint8_t* into, size_t max, bool& eof,
                                     const core::http::HeaderList*& trailers) {
  H2UpstreamStream* s = find(stream_id);
  if (!s) return -1;  // released: its RST_STREAM is queued
  return s->pull_body(into, max, eof, trailers);
}

void H2UpstreamSession::on_goaway(uint32_t last_stream_id, uint32_t) {
  goaway_last_id_ = std::min<int32_t>(goaway_last_id_, static_cast<int32_t>(last_stream_id));
  if (state_ != State::Dead) state_ = State::Draining;
  if (attached_ == 0) codec_.terminate(NGHTTP2_NO_ERROR);
}

}  // namespace vx::adapters::upstream
