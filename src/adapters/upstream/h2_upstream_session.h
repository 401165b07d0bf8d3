// H2UpstreamSession: one multiplexed HTTP/2 connection to an endpoint (h2c, or h2 over TLS
// with ALPN), carrying many H2UpstreamStreams at once. A reader feeds the sans-I/O
// h2::H2Session, a writer flushes its frames. Owned by H2UpstreamPool; lives on one worker's
// thread.
//
// Invariants:
//  1. connect_timeout bounds TCP connect, the TLS handshake and the server's first frames;
//     only then does the session take streams (state Ready).
//  2. After the peer's GOAWAY (or a local drain) the session takes no new stream (Draining);
//     streams the peer will not process fail as UpstreamReset before any response byte and
//     say reused(), so the pipeline may resend them elsewhere (RFC 9113 §6.8, §8.7).
//  3. A dead connection (read/write error, protocol error) fails every stream it carries
//     with UpstreamReset; nothing waits on it afterwards.
//  4. The object is destroyed only after run() ended and the last stream detached.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "adapters/codec/h2/h2_session.h"
#include "adapters/net/tls_stream.h"
#include "core/http/error.h"
#include "ports/upstream_pool.h"

namespace vx::adapters::upstream {

class ClientTlsContext;
class H2UpstreamStream;
class H2UpstreamPool;

using H2Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, ports::Executor>;
// TLS whose record buffers exist only while records are in flight (adapters/net/tls_stream.h).
using H2TlsSocket = net::TlsStream;
using H2Timer =
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>,
                                      ports::Executor>;

class H2UpstreamSession final : private h2::H2Events {
 public:
  enum class State : uint8_t { Connecting, Ready, Draining, Dead };

  // Copies what it needs of `target` (addresses, timeouts, the TLS context) for its lifetime.
  H2UpstreamSession(ports::Executor executor, H2UpstreamPool& pool,
                    const ports::UpstreamTarget& target);
  ~H2UpstreamSession() override;

  // Connects, then serves the connection until it dies, idles out or drains empty. The pool
  // spawns it once; never throws past its own frame.
  ports::Awaitable<void> run();

  State state() const { return state_; }
  // Room for one more stream: connecting or ready, below the peer's concurrent stream limit.
  // While connecting, the limit is not known yet: `expected` is what to assume.
  bool has_room() const;
  void expect_stream_limit(uint32_t expected) { expected_limit_ = expected; }
  // Suspends while connecting; the connect error when it failed.
  ports::AsyncResult<void> wait_ready();
  const ports::UpstreamTlsContext* tls_identity() const { return tls_identity_; }
  uint64_t endpoint_id() const { return endpoint_id_; }
  bool run_done() const { return run_done_; }
  size_t attached() const { return attached_; }
  // Stream bookkeeping (H2UpstreamStream and the pool).
  void attach() {
    ++attached_;
    last_active_ = std::chrono::steady_clock::now();
  }
  void detach(H2UpstreamStream& stream);
  // Starts a request stream; the stream id, or an error when the session cannot take it.
  core::Result<int32_t, core::http::Error> open_stream(H2UpstreamStream& stream,
                                                       const core::http::RequestHead& head);
  // True once the session carried a stream before (a later failure may be a stale race).
  bool used() const { return streams_opened_ > 0; }
  h2::H2Session& codec() { return codec_; }
  void wake_writer() { write_signal_.cancel(); }
  // Stop taking streams; close once the last one detached.
  void drain();

 private:
  ports::AsyncResult<void> connect();
  ports::AsyncResult<void> establish();
  ports::Awaitable<void> reader();
  ports::Awaitable<void> writer();
  ports::Awaitable<void> watchdog();
  ports::Awaitable<std::pair<boost::system::error_code, size_t>> read_some(std::span<char> into);
  ports::Awaitable<boost::system::error_code> write_all(std::string_view bytes);
  H2Socket& tcp() { return tls_ ? tls_->next_layer() : socket_; }
  void fail_all();
  // Between streams: nghttp2's frame buffer and stream table pages, scratch room (a watchdog
  // tick after the last stream detached).
  void release_idle_memory();
  H2UpstreamStream* find(int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second;
  }

  // h2::H2Events
  void on_headers(int32_t stream_id, h2::HeaderBlock& block, bool end_stream) override;
  void on_data(int32_t stream_id, std::string_view data) override;
  void on_end_stream(int32_t stream_id) override;
  void on_stream_close(int32_t stream_id, uint32_t error_code) override;
  long on_send_body(int32_t stream_id, uint8_t* into, size_t max, bool& eof,
                    const core::http::HeaderList*& trailers) override;
  void on_goaway(uint32_t last_stream_id, uint32_t error_code) override;

  ports::Executor executor_;
  H2UpstreamPool& pool_;
  uint64_t endpoint_id_;
  std::vector<boost::asio::ip::tcp::endpoint> addresses_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds idle_timeout_;
  const ports::UpstreamTlsContext* tls_identity_;
  std::shared_ptr<const ClientTlsContext> tls_context_;  // keeps it alive past a reload
  std::string server_name_;
  std::string_view scheme_;

  H2Socket socket_;
  std::optional<H2TlsSocket> tls_;
  h2::H2Session codec_;
  State state_ = State::Connecting;
  core::http::Error connect_error_{core::http::ErrorKind::UpstreamConnectRefused, ""};
  std::unordered_map<int32_t, H2UpstreamStream*> streams_;
  size_t attached_ = 0;  // leased streams, with or without an id yet
  uint64_t streams_opened_ = 0;
  uint32_t expected_limit_ = 100;  // RFC 9113 §6.5.2's recommended floor
  // The peer's GOAWAY last_stream_id: streams above it were never processed (invariant 2).
  int32_t goaway_last_id_ = INT32_MAX;
  H2Timer ready_signal_;
  H2Timer write_signal_;
  std::string out_;
  std::chrono::steady_clock::time_point last_active_;
  bool run_done_ = false;
};

}  // namespace vx::adapters::upstream
