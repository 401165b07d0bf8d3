// One HTTP/1.1 connection to an endpoint (plain TCP, or TLS on top of it), leased to one stream
// at a time by its pool. A template over the byte stream, like the downstream connections, so
// plain TCP pays no indirection per read. Owned by the pool; lives on one worker's thread.
//
// Invariants:
//  1. At most one exchange uses the connection at a time (the lease).
//  2. It returns to the pool only when the response was read to its end and the upstream did
//     not ask to close (reusable), so no stale bytes are ever read by the next exchange.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "adapters/codec/h1/h1_parser.h"
#include "adapters/net/buffer_pool.h"
#include "adapters/net/recv_now.h"
#include "adapters/net/send_now.h"
#include "adapters/net/tls_stream.h"
#include "ports/buffer_view.h"
#include "ports/upstream_pool.h"

namespace vx::adapters::upstream {

using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, ports::Executor>;
// TLS whose record buffers exist only while records are in flight (adapters/net/tls_stream.h).
using TlsSocket = net::TlsStream;

// The TCP socket under a stream (peek, cancel).
inline Socket& tcp_of(Socket& s) {
  return s;
}
inline Socket& tcp_of(TlsSocket& s) {
  return s.next_layer();
}

template <typename Stream>
class BasicH1UpstreamPool;

template <typename Stream>
class BasicH1UpstreamConnection final : public ports::UpstreamStream {
 public:
  BasicH1UpstreamConnection(Stream socket, BasicH1UpstreamPool<Stream>& pool,
                            uint64_t endpoint_key);

  // ports::UpstreamStream
  core::Result<void, core::http::Error> send_head(const core::http::RequestHead& head) override;
  ports::AsyncResult<void> send_body(const ports::BodyChunk& chunk) override;
  ports::AsyncResult<core::http::ResponseHead*> recv_head() override;
  std::optional<core::Result<core::http::ResponseHead*, core::http::Error>> try_recv_head()
      override;
  ports::AsyncResult<ports::BodyChunk> recv_body() override;
  std::optional<core::Result<ports::BodyChunk, core::http::Error>> try_recv_body() override;
  std::string_view take_leftover() override;
  ports::Awaitable<std::pair<boost::system::error_code, size_t>> read_raw(
      std::span<char> into) override;
  ports::Awaitable<boost::system::error_code> write_raw(std::string_view bytes) override;
  bool reused() const override { return reused_; }
  void cancel() override;

  // Pool bookkeeping.
  uint64_t endpoint_key() const { return endpoint_key_; }
  BasicH1UpstreamPool<Stream>& pool() { return pool_; }
  void mark_reused() { reused_ = true; }
  void start_exchange();
  // The response was read to its end, the upstream allows reuse and sent nothing after it.
  bool clean_end() const { return clean_end_; }
  std::chrono::steady_clock::time_point idle_since;
  // False when the peer closed or sent unsolicited bytes while idle (checked without blocking).
  bool alive_while_idle();
  // Back in the pool: the read buffer goes back to the worker's pool until the next exchange
  // reads (issue 19: pooled connections are idle most of the time).
  void go_idle();

 private:
  // Gathers out_ then `body` and sends what the socket takes now; nullopt: the rest waits in
  // gather_ for write_gathered(). Either way finish_flush() takes the result. Callers await
  // the deferred write themselves, so a write costs no coroutine frame of its own.
  std::optional<net::SendResult> flush_now(std::span<const std::string_view> body);
  auto write_gathered() {
    return boost::asio::async_write(socket_, ports::BufferView(gather_), ports::kDeferTuple);
  }
  core::Result<void, core::http::Error> finish_flush(const net::SendResult& sent);
  // Reads more bytes after in_end_ (compacting or growing in_ first when it is full); the
  // caller adds the count to in_end_.
  auto read_more() { return socket_.async_read_some(read_space(), ports::kDeferTuple); }
  boost::asio::mutable_buffer read_space();
  // The response head from the bytes read so far; nullopt while it is incomplete.
  std::optional<core::Result<core::http::ResponseHead*, core::http::Error>> parse_buffered_head();
  core::http::Error read_error(const boost::system::error_code& ec, bool any_response_byte) const;

  Stream socket_;
  BasicH1UpstreamPool<Stream>& pool_;
  uint64_t endpoint_key_;
  bool reused_ = false;

  std::string out_;  // pending request head and chunk framing, written with the next body bytes
  bool request_chunked_ = false;
  bool request_is_head_ = false;
  // The request body is still being sent: out_ belongs to send_body, which may run alongside
  // recv_head (the pipeline is full duplex).
  bool body_pending_ = false;
  bool write_pending_ = false;  // send_head left part of a body-less request for recv_head
  std::vector<boost::asio::const_buffer> gather_;

  net::LentBuffer in_;          // held only while an exchange reads
  size_t in_begin_ = 0;         // first unconsumed byte
  size_t in_end_ = 0;           // one past the last received byte
  size_t pending_consume_ = 0;  // head bytes of the last recv_head, dropped on the next call
  bool response_byte_seen_ = false;
  h1::H1Parser parser_;
  core::http::ResponseHead head_;
  bool in_body_ = false;
  bool eof_ = false;
  bool clean_end_ = false;
};

using H1UpstreamConnection = BasicH1UpstreamConnection<Socket>;
using TlsH1UpstreamConnection = BasicH1UpstreamConnection<TlsSocket>;

}  // namespace vx::adapters::upstream
