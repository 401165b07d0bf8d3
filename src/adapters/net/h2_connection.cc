#include "adapters/net/h2_connection.h"

#include "adapters/codec/h2/upgrade_settings.h"

#include <type_traits>

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include "adapters/net/buffer_pool.h"
#include "adapters/net/recv_now.h"
#include "adapters/net/send_now.h"
#include "ports/guarded_spawn.h"

namespace vx::adapters::net {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadBytes = 16 * 1024;
// Finished streams kept per connection for reuse, and the most buffer memory one may keep.
constexpr size_t kSpareStreams = 16;
constexpr size_t kSpareStreamBytes = 16 * 1024;

h2::H2Settings settings_for(const core::config::Limits& limits) {
  h2::H2Settings s;
  s.max_header_list = static_cast<uint32_t>(std::min<uint64_t>(limits.max_header_bytes, 1 << 24));
  s.max_header_fields = limits.max_headers + 8;  // + pseudo-headers
  return s;
}

}  // namespace

H2Downstream::H2Downstream(ports::Executor executor, proxy::WorkerContext& worker,
                           const core::config::Limits& limits, bool tls, std::string client_ip,
                           SocketFacts facts)
    : executor_(executor),
      worker_(worker),
      limits_(limits),
      tls_(tls),
      client_ip_(std::move(client_ip)),
      facts_(facts),
      session_(h2::H2Session::Role::Server, settings_for(limits), *this),
      write_signal_(executor),
      done_signal_(executor),
      watchdog_timer_(executor),
      last_activity_(SteadyClock::now()) {}

H2Downstream::~H2Downstream() = default;

bool H2Downstream::accept_upgrade(const core::http::RequestHead& request,
                                  std::string_view settings) {
  const auto payload = h2::decode_http2_settings(settings);
  if (!payload || !session_.upgrade(*payload, request.method == "HEAD")) return false;
  h2::HeaderBlock block;
  block.add(":method", request.method);
  block.add(":scheme", "http");
  block.add(":authority", request.authority);
  block.add(":path", request.target);
  for (const auto& h : request.headers) {
    if (core::http::iequals(h.name, "connection") || core::http::iequals(h.name, "upgrade") ||
        core::http::iequals(h.name, "http2-settings") || core::http::iequals(h.name, "host")) {
      continue;
    }
    std::string lower(h.name);
    for (char& c : lower) c = core::http::ascii_lower(c);
    block.add(lower, h.value);
  }
  start_stream(1, block, true);
  return true;
}

void H2Downstream::drain() {
  if (draining_) return;
  draining_ = true;
  session_.shutdown();  // GOAWAY with the last stream id: no new streams
  if (live_streams_ == 0) session_.terminate(0);
  wake_writer();
}

void H2Downstream::start_stream(int32_t id, h2::HeaderBlock& block, bool end_stream) {
  std::unique_ptr<H2Stream> stream;
  if (spare_streams_.empty()) {
    stream = std::make_unique<H2Stream>(*this, id, block, end_stream);
  } else {
    stream = std::move(spare_streams_.back());
    spare_streams_.pop_back();
    stream->restart(id, block, end_stream);
  }
  streams_[id] = stream.get();
  ++live_streams_;
  ports::spawn_guarded(
      executor_,
      [](H2Downstream& connection, std::unique_ptr<H2Stream> s) -> ports::Awaitable<void> {
        co_await s->run();
        connection.streams_.erase(s->id());  // now: no frame may reach it once it is reused
        // A finished stream's buffers serve the next one (a coroutine destroyed unfinished just
        // frees its own); one that held a large body is let go rather than kept large.
        if (connection.spare_streams_.size() < kSpareStreams &&
            s->buffer_bytes() <= kSpareStreamBytes) {
          connection.spare_streams_.push_back(std::move(s));
        }
      }(*this, std::move(stream)),
      ports::TaskKind::Stream,
      [this, id] {
        streams_.erase(id);
        --live_streams_;
        last_activity_ = SteadyClock::now();
        if (draining_ && live_streams_ == 0) session_.terminate(0);
        wake_writer();
        done_signal_.cancel();
      });
}

void H2Downstream::on_headers(int32_t stream_id, h2::HeaderBlock& block, bool end_stream) {
  if (H2Stream* s = find(stream_id)) {
    if (block.too_large) {
      session_.reset(stream_id, NGHTTP2_PROTOCOL_ERROR);  // trailers over the limits
      return;
    }
    s->on_trailers(std::move(block));
    return;
  }
  if (draining_) {
    session_.reset(stream_id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  start_stream(stream_id, block, end_stream);
}

void H2Downstream::on_data(int32_t stream_id, std::string_view data) {
  if (H2Stream* s = find(stream_id)) {
    s->on_data(data);
  } else {
    session_.consume(stream_id, data.size());  // nobody reads it: keep the connection window open
  }
}

void H2Downstream::on_end_stream(int32_t stream_id) {
  if (H2Stream* s = find(stream_id)) s->on_end_stream();
}

void H2Downstream::on_stream_close(int32_t stream_id, uint32_t error_code) {
  if (H2Stream* s = find(stream_id)) s->on_closed(error_code);
}

long H2Downstream::on_send_body(int32_t stream_id, uint8_t* into, size_t max, bool& eof,
                                const core::http::HeaderList*& trailers) {
  H2Stream* s = find(stream_id);
  if (!s) {
    eof = true;
    return 0;
  }
  return s->pull_body(into, max, eof, trailers);
}

void H2Downstream::feed(std::string_view bytes) {
  last_activity_ = SteadyClock::now();
  preface_seen_ = true;
  session_.receive(bytes, last_activity_);
  wake_writer();
}

ports::Awaitable<void> H2Downstream::reader(std::string initial) {
  if (!initial.empty()) feed(initial);
  LentBuffer buffer;
  while (!session_.fatal()) {
    // Invariant 4: read what is there into a pool buffer; wait for more without it.
    buffer.take();
    if (auto got = read_now({buffer.data(), buffer.size()})) {
      auto [ec, n] = *got;
      if (n > 0) feed({buffer.data(), n});
      if (ec) break;
      if (n == buffer.size()) {
        // More is likely there: the other coroutines of the worker get a turn first, as an
        // asynchronous read's completion would give them.
        co_await asio::post(executor_, asio::deferred);
        continue;
      }
    }
    buffer.give_back();
    if (co_await wait_readable()) break;
  }
  buffer.give_back();
  if (session_.fatal()) {
    // Invariant 3: the writer flushes the GOAWAY and ends the connection.
    Timer forever(executor_);
    forever.expires_at(SteadyClock::time_point::max());
    co_await forever.async_wait(ports::kDeferTuple);
  }
  reader_done_ = true;
}

ports::Awaitable<void> H2Downstream::writer() {
  for (;;) {
    out_.clear();
    const bool ok = session_.produce(out_);
    for (const int32_t id : produce_waiters_) {
      if (H2Stream* s = find(id)) s->notify();
    }
    produce_waiters_.clear();
    if (!out_.empty()) {
      writing_ = true;
      write_started_ = SteadyClock::now();
      const auto ec = co_await write_all(out_);
      writing_ = false;
      if (ec) co_return;
      continue;
    }
    if (!ok || session_.finished() || session_.fatal()) co_return;
    write_signal_.expires_at(SteadyClock::time_point::max());
    co_await write_signal_.async_wait(ports::kDeferTuple);
  }
}

ports::Awaitable<void> H2Downstream::watchdog() {
  const auto idle = limits_.idle_timeout;
  const auto period = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(1000),
      std::max<std::chrono::milliseconds>(std::chrono::milliseconds(10),
                                          std::min(idle, limits_.header_timeout) / 4));
  const auto started = SteadyClock::now();
  for (;;) {
    auto now = SteadyClock::now();
    next_check_ = now + period;
    for (const auto& [id, stream] : streams_) {
      next_check_ = std::min(next_check_, stream->expire_if_due(now));
    }
    watchdog_timer_.expires_at(next_check_);
    co_await watchdog_timer_.async_wait(ports::kDeferTuple);
    // run()'s `||` cancels the watchdog when the connection ends: read as a value, since the
    // next co_await would throw it. (Not inside the if: GCC 12 miscompiles that.)
    const boost::asio::cancellation_state state =
        co_await boost::asio::this_coro::cancellation_state;
    if (state.cancelled() != boost::asio::cancellation_type::none) co_return;
    now = SteadyClock::now();
    if (!preface_seen_ && now - started >= limits_.header_timeout) co_return;
    if (writing_ && now - write_started_ >= idle) co_return;  // invariant 2: stalled writes
    if (live_streams_ == 0 && now - last_activity_ >= period) release_idle_memory();
    if (may_park_ && preface_seen_ && now - last_activity_ >= IdleConnections::kParkAfter &&
        parkable()) {
      parking_ = true;  // invariant 5: run() ends the reader and the writer, and parks
      parked_activity_ = last_activity_;
      co_return;
    }
    if (live_streams_ == 0 && now - last_activity_ >= idle && !session_.fatal()) {
      session_.terminate(0);  // invariant 2: idle; the writer flushes GOAWAY and stops
      wake_writer();
    }
  }
}

bool H2Downstream::parkable() const {
  return live_streams_ == 0 && !writing_ && !draining_ && !session_.fatal() &&
         !session_.finished() && !session_.wants_write() && produce_waiters_.empty();
}

void H2Downstream::close_parked() {
  // Once: OpenSSL still knows the descriptor's number after the close, which a new connection
  // may already have.
  if (std::exchange(closed_parked_, true)) return;
  session_.terminate(0);
  out_.clear();
  session_.produce(out_);
  write_now(out_);
  close_io();
}

void H2Downstream::release_idle_memory() {
  session_.release_idle_buffers();
  spare_streams_.clear();
  if (streams_.empty()) decltype(streams_)().swap(streams_);  // its bucket array
  if (!writing_ && out_.capacity() > std::string().capacity()) std::string().swap(out_);
}

ports::Awaitable<bool> H2Downstream::run(std::string initial) {
  for (;;) {
    parking_ = false;
    reader_done_ = false;
    co_await (reader(std::move(initial)) || writer() || watchdog());
    if (!parking_) break;
    // Invariant 5. Bytes read while the coroutines ended, or anything else since the watchdog
    // decided, and the connection is served on instead.
    // (The watchdog gave back the idle memory in the tick that decided.)
    if (last_activity_ == parked_activity_ && parkable()) co_return true;
  }
  if (session_.fatal() && !reader_done_) {
    // After a GOAWAY for an error, read what the peer still sends for a moment before
    // closing: closing with unread bytes resets the connection and can destroy the GOAWAY
    // in flight (RFC 9113 §6.8 asks that it arrive).
    shutdown_send();
    auto discard = [this]() -> ports::Awaitable<void> {
      std::vector<char> sink(kReadBytes);
      for (;;) {
        auto [ec, n] = co_await read_some(sink);
        if (ec) co_return;
      }
    };
    Timer linger(executor_);
    linger.expires_after(std::chrono::milliseconds(500));
    co_await (discard() || linger.async_wait(ports::kUseTuple));
  }
  // Invariant 1: every stream finishes before the connection object goes away.
  cancel_io();
  for (auto& [id, s] : streams_) s->abort();
  while (live_streams_ > 0) {
    done_signal_.expires_at(SteadyClock::time_point::max());
    co_await done_signal_.async_wait(ports::kDeferTuple);
  }
  close_io();
  co_return false;
}

template <typename Stream>
BasicH2Connection<Stream>::BasicH2Connection(Stream stream, proxy::WorkerContext& worker,
                                             const core::config::Limits& limits,
                                             std::string_view listener, bool tls)
    : H2Downstream(stream.get_executor(), worker, limits, tls, client_address(tcp_of(stream)),
                   SocketFacts(tcp_of(stream).native_handle(), listener)),
      stream_(std::move(stream)) {}

template <typename Stream>
ports::Awaitable<std::pair<boost::system::error_code, size_t>> BasicH2Connection<Stream>::read_some(
    std::span<char> into) {
  auto [ec, n] =
      co_await stream_.async_read_some(asio::buffer(into.data(), into.size()), ports::kDeferTuple);
  co_return std::pair{ec, n};
}

template <typename Stream>
std::optional<std::tuple<boost::system::error_code, size_t>> BasicH2Connection<Stream>::read_now(
    std::span<char> into) {
  return recv_now(stream_, asio::buffer(into.data(), into.size()));
}

template <typename Stream>
ports::Awaitable<boost::system::error_code> BasicH2Connection<Stream>::wait_readable() {
  auto [ec] = co_await net::wait_readable(stream_);
  co_return ec;
}

template <typename Stream>
ports::Awaitable<boost::system::error_code> BasicH2Connection<Stream>::write_all(
    std::string_view bytes) {
  auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                                            ports::kDeferTuple);
  co_return ec;
}

template <typename Stream>
void BasicH2Connection<Stream>::write_now(std::string_view bytes) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    stream_.write_now(bytes.data(), bytes.size());  // send_now leaves TLS to async writes
  } else {
    std::vector<asio::const_buffer> pieces{asio::buffer(bytes.data(), bytes.size())};
    send_now(stream_, pieces);
  }
}

template <typename Stream>
void BasicH2Connection<Stream>::cancel_io() {
  boost::system::error_code ignored;
  tcp_of(stream_).cancel(ignored);
}

template <typename Stream>
void BasicH2Connection<Stream>::shutdown_send() {
  boost::system::error_code ignored;
  tcp_of(stream_).shutdown(asio::socket_base::shutdown_send, ignored);
}

template <typename Stream>
void BasicH2Connection<Stream>::close_io() {
  boost::system::error_code ignored;
  tcp_of(stream_).shutdown(asio::socket_base::shutdown_both, ignored);
  tcp_of(stream_).close(ignored);
}

template class BasicH2Connection<Socket>;
template class BasicH2Connection<TlsStream>;

}  // namespace vx::adapters::net
