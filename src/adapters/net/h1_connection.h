// H1Connection: one downstream HTTP/1.1 connection: reads requests one after another
// (pipelined ones are answered in order because they are served one at a time), hands each to
// the pipeline as a DownstreamExchange, and writes the answers. One per accepted socket, owned
// by its own coroutine on one worker's thread.
//
// Invariants:
//  1. One watchdog timer per connection bounds every wait: idle_timeout while no request byte
//     has arrived, header_timeout from the first byte of a head, then what the pipeline arms.
//  2. After a response whose request body was not read to its end, after a parse error, or
//     while draining, the connection closes instead of reading another request.
//  3. Waiting for a request's first byte, the connection holds no read buffer and no
//     H1InFlight (issue 19): both are taken from the worker's pools when bytes arrive and
//     given back before the next idle wait, which awaits readiness, not a read into a buffer.
#pragma once

#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/codec/h1/h1_parser.h"
#include "adapters/net/buffer_pool.h"
#include "adapters/net/h1_in_flight.h"
#include "adapters/net/idle_connections.h"
#include "adapters/net/socket_facts.h"
#include "adapters/net/stream.h"
#include "core/config/config.h"
#include "ports/buffer_view.h"
#include "proxy/downstream_exchange.h"
#include "proxy/worker_context.h"

namespace vx::adapters::net {

// How run() ended: the connection is over, or its bytes are HTTP/2 (h2c, plain listeners only):
// the client sent the HTTP/2 preface first (prior knowledge, RFC 9113 §3.3), or asked for
// "Upgrade: h2c" (RFC 7540 §3.2) and was answered 101; then stream() and buffered() go to an
// H2 connection. Parked: the connection was idle between requests long enough to be parked
// (IdleConnections); the stream goes to a ParkedConnection due at parked_deadline().
enum class H1Exit : uint8_t { Closed, Http2Preface, UpgradeH2c, Parked };

template <typename Stream>
class BasicH1Connection final : public proxy::DownstreamExchange,
                                public DownstreamConnection,
                                private IdleWaiter {
 public:
  // h2c: plain listeners detect the HTTP/2 preface and accept Upgrade: h2c.
  // `listener`: the configured listener's name (filters see it), which outlives the connection.
  BasicH1Connection(Stream stream, proxy::WorkerContext& worker, const core::config::Limits& limits,
                    std::string_view listener, bool tls, bool h2c);

  // Serves requests until the connection ends. Never throws. On a handover (H1Exit other than
  // Closed) the stream is left open.
  ports::Awaitable<H1Exit> run();
  // Every response head carries `Alt-Svc: value` (SPEC.md §4); the view outlives the connection.
  void set_alt_svc(std::string_view value) { alt_svc_ = value; }
  // Between requests the connection may park in `idle` (it outlives the connection).
  void allow_parking(IdleConnections& idle) { idle_connections_ = &idle; }
  // A connection that was parked: its next request is not its first.
  void resumed() { first_request_ = false; }
  // After H1Exit::Parked: when the idle timeout closes the parked connection.
  std::chrono::steady_clock::time_point parked_deadline() const {
    return since + limits_.idle_timeout;
  }
  // DownstreamConnection. Drain: an idle connection closes now, a busy one after its current
  // response.
  void drain() override;

  Stream& stream() { return socket_; }
  // Bytes read and not consumed (after a handover: the start of the HTTP/2 connection).
  std::string_view buffered() const { return {in_.data() + in_begin_, in_end_ - in_begin_}; }
  // After UpgradeH2c: the request that asked for it (becomes HTTP/2 stream 1) and the
  // decoded HTTP2-Settings header.
  const core::http::RequestHead& upgrade_request() const { return request_; }

  // proxy::DownstreamExchange
  core::http::RequestHead& request() override { return request_; }
  std::string_view client_ip() const override { return client_ip_; }
  ports::ConnectionFacts connection_facts() const override {
    return facts_.get(client_ip_, request_.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
  }
  std::string_view listener() const override { return facts_.listener(); }
  bool tls() const override { return tls_; }
  proxy::StreamScratch& scratch() override { return live_->scratch; }
  std::chrono::milliseconds idle_timeout() const override { return limits_.idle_timeout; }
  ports::AsyncResult<void> send_continue() override;
  ports::AsyncResult<ports::BodyChunk> read_body() override;
  ports::AsyncResult<void> send_interim(const core::http::ResponseHead& head) override;
  core::Result<void, core::http::Error> send_head(const core::http::ResponseHead& head) override;
  std::optional<core::Result<void, core::http::Error>> try_send_body(
      const ports::BodyChunk& chunk) override;
  ports::AsyncResult<void> send_body(const ports::BodyChunk& chunk) override;
  ports::AsyncResult<void> send_local(uint16_t status, std::string_view content_type,
                                      std::string_view body,
                                      const core::http::HeaderList& extra) override;
  // A head send_head queued is not out yet: only written bytes start the response.
  bool response_started() const override { return response_started_ && live_->out.empty(); }
  ports::Awaitable<void> tunnel(ports::UpstreamStream& upstream) override;
  void arm_deadline(std::chrono::steady_clock::time_point deadline,
                    ports::UpstreamStream* upstream) override;
  bool deadline_expired() const override { return expired_; }

 private:
  // Malformed: parse_error_ says why (a timeout included); the caller answers it and closes.
  enum class HeadOutcome : uint8_t { Request, Closed, Malformed, Http2Preface, UpgradeH2c };

  ports::Awaitable<void> serve();
  // The watchdog: a completion handler on timer_, re-armed each time it fires until closed_.
  void arm_watchdog();
  void watchdog_fired();
  // The next request head: try_read_head() when the bytes are here or the socket has them now
  // (no coroutine frame), else read_head(), which waits. begin_head() readies the parser and
  // the deadline for it (false: draining while idle, so no next request).
  bool begin_head();
  std::optional<HeadOutcome> parse_buffered_head();
  std::optional<HeadOutcome> try_read_head();
  ports::Awaitable<HeadOutcome> read_head();
  // What a failed read or wait of a head means: a timeout once bytes came (answered 408),
  // else the end (peer gone, idle timeout, drain).
  HeadOutcome read_failed();
  void received(size_t n);  // n more bytes at in_end_ (from idle, the head's timeout starts)
  // Invariant 3: the read buffer and the H1InFlight, taken when bytes are about to be read and
  // given back (nothing buffered) before an idle wait.
  void take_in_flight();
  void go_idle();
  // Reads more bytes after in_end_ (taking, compacting or growing the buffer first). Returns the
  // deferred operation itself, so that awaiting it costs no coroutine frame of its own.
  auto read_more() { return socket_.async_read_some(read_space(), ports::kDeferTuple); }
  boost::asio::mutable_buffer read_space();
  // out_ (head, framing) then `body`, in one gathered write; the same without a frame of its
  // own: `if (gather_out(body)) finish_write(co_await write_gathered());`.
  bool gather_out(std::span<const std::string_view> body);
  // The same for a chunk of a chunked response: size lines, the pieces, and the last chunk
  // (with trailers) when it ends the body.
  bool gather_chunked(const ports::BodyChunk& chunk);
  auto write_gathered() {
    return boost::asio::async_write(socket_, ports::BufferView(live_->gather), ports::kDeferTuple);
  }
  core::Result<void, core::http::Error> finish_write(
      const std::tuple<boost::system::error_code, size_t>& written);
  // finish_write for a chunk of the response body: the response is complete once its last
  // chunk was written.
  core::Result<void, core::http::Error> finish_body_write(
      const ports::BodyChunk& chunk, const std::tuple<boost::system::error_code, size_t>& written);
  ports::AsyncResult<void> write_out(std::span<const std::string_view> body);
  ports::Awaitable<void> answer_parse_error(const core::http::Error& error);
  bool keep_alive_after_response() const;
  // The Connection field of a final response head ("" = none).
  std::string_view connection_field() const;
  void add_alt_svc();

  bool wants_h2c_upgrade() const;
  // IdleWaiter: the sweep found this connection idle for long enough.
  void park() override;

  Stream socket_;
  proxy::WorkerContext& worker_;
  const core::config::Limits& limits_;
  bool tls_;
  std::string_view alt_svc_;
  bool h2c_;
  bool first_request_ = true;
  std::string client_ip_;
  SocketFacts facts_;

  // Watchdog (invariant 1). A handler beside serve(), not `serve() || watchdog()`: under that
  // operator every read and write of serve() carried a cancellation handler it never needed
  // (the watchdog cancels the socket itself). Not a coroutine either: its frame, freed when the
  // connection parks, shared the allocator's slabs with Asio's socket state, which stays, and
  // kept a third of them alive per parked connection (issue 19).
  Timer timer_;
  Timer watchdog_exit_;  // run() waits on it for the watchdog to finish
  bool watchdog_running_ = false;
  std::chrono::steady_clock::time_point deadline_;
  ports::UpstreamStream* watched_upstream_ = nullptr;
  bool expired_ = false;
  bool closed_ = false;

  LentBuffer in_;
  std::unique_ptr<H1InFlight> live_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  h1::H1Parser parser_;
  core::http::RequestHead request_;
  core::http::Error parse_error_{core::http::ErrorKind::BadRequest, {}};  // of a Malformed head
  bool request_wants_close_ = false;
  bool body_done_ = false;
  bool idle_ = true;  // waiting for the first byte of a request
  bool draining_ = false;
  IdleConnections* idle_connections_ = nullptr;
  bool parking_ = false;  // the idle wait was ended to park

  // A write went out at once (send_now) and nothing was read since: the next read yields first
  // (ports::yield_after_send), as the peer cannot have answered yet.
  bool sent_since_read_ = false;
  bool rest_pending_ = false;  // try_send_body sent part of a chunk; send_body sends the rest
  bool response_started_ = false;
  bool response_complete_ = false;  // the last byte of the response was written
  bool response_chunked_ = false;
  bool response_has_body_ = true;
  bool close_after_response_ = false;
  bool continue_sent_ = false;
  H1Exit exit_ = H1Exit::Closed;
};

using H1Connection = BasicH1Connection<Socket>;
using TlsH1Connection = BasicH1Connection<TlsStream>;

}  // namespace vx::adapters::net
