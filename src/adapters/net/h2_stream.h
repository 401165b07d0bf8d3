// H2Stream: one HTTP/2 request/response exchange on a downstream H2 connection, as the
// pipeline sees it (proxy::DownstreamExchange). Owned by its own coroutine on the
// connection's worker thread; the connection routes frames to it by stream id.
//
// Invariants:
//  1. Received DATA is acknowledged to the peer (WINDOW_UPDATE) only once the pipeline took
//     it: the peer can never have more than one window of body buffered here.
//  2. At most kHighWaterBytes of response body wait here for the peer's window; send_body
//     suspends above it, so a slow client slows the upstream read instead of growing memory.
//  3. A stream that makes no progress toward the client for idle_timeout (zero window) is
//     reset.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "adapters/codec/h2/header_block.h"
#include "adapters/codec/h2/outgoing_body.h"
#include "adapters/net/stream.h"
#include "core/config/config.h"
#include "proxy/downstream_exchange.h"
#include "proxy/exchange_deadline.h"
#include "proxy/streamed_request_body.h"
#include "proxy/worker_context.h"

namespace vx::adapters::net {

class H2Downstream;

class H2Stream final : public proxy::DownstreamExchange {
 public:
  static constexpr size_t kHighWaterBytes = 64 * 1024;

  // `block` is the request head (swapped in: the caller gets this stream's old storage back);
  // end_stream = no body follows.
  H2Stream(H2Downstream& connection, int32_t id, h2::HeaderBlock& block, bool end_stream);
  // Makes a finished stream a new one, keeping the capacity of its buffers (the connection
  // recycles streams so that a warm connection allocates little per request).
  void restart(int32_t id, h2::HeaderBlock& block, bool end_stream);
  // Bytes of buffer capacity the stream holds (what keeping it for reuse costs).
  size_t buffer_bytes() const;

  // Runs the pipeline for this stream, then waits until the response is flushed or reset.
  ports::Awaitable<void> run();
  int32_t id() const { return id_; }

  // From the connection (frames for this stream).
  void on_data(std::string_view data);
  void on_trailers(h2::HeaderBlock&& block);
  void on_end_stream();
  void on_closed(uint32_t error_code);
  long pull_body(uint8_t* into, size_t max, bool& eof, const core::http::HeaderList*& trailers);
  // The connection is going away: abort whatever the stream waits for.
  void abort();
  // Wakes the stream's coroutines: whatever they wait for may have changed.
  void notify() {
    signal_.cancel();
    body_signal_.cancel();
  }
  // From the connection's watchdog: expires the stream if its deadline passed; returns the
  // deadline still ahead (time_point::max() when none).
  std::chrono::steady_clock::time_point expire_if_due(std::chrono::steady_clock::time_point now);

  // proxy::DownstreamExchange
  core::http::RequestHead& request() override { return request_; }
  std::string_view client_ip() const override;
  ports::ConnectionFacts connection_facts() const override;
  std::string_view listener() const override;
  proxy::DownstreamProtocol protocol() const override { return proxy::DownstreamProtocol::Http2; }
  bool tls() const override;
  proxy::StreamScratch& scratch() override { return scratch_; }
  std::chrono::milliseconds idle_timeout() const override;
  ports::AsyncResult<void> send_continue() override;
  ports::AsyncResult<ports::BodyChunk> read_body() override;
  ports::AsyncResult<void> send_interim(const core::http::ResponseHead& head) override;
  core::Result<void, core::http::Error> send_head(const core::http::ResponseHead& head) override;
  ports::AsyncResult<void> send_body(const ports::BodyChunk& chunk) override;
  ports::AsyncResult<void> send_local(uint16_t status, std::string_view content_type,
                                      std::string_view body,
                                      const core::http::HeaderList& extra) override;
  bool response_started() const override { return response_started_; }
  ports::Awaitable<void> tunnel(ports::UpstreamStream& upstream) override;
  void arm_deadline(std::chrono::steady_clock::time_point deadline,
                    ports::UpstreamStream* upstream) override;
  bool deadline_expired() const override { return deadline_.expired(); }

 private:
  void begin(int32_t id, h2::HeaderBlock& block, bool end_stream);
  // RFC 8441: `CONNECT` with `:protocol: websocket` becomes the HTTP/1.1 upgrade the pipeline
  // and the upstream know (GET, Upgrade, Connection, a fresh Sec-WebSocket-Key).
  void begin_websocket();
  // The 101 of a WebSocket upgrade, as RFC 8441's 200: false when its Sec-WebSocket-Accept
  // does not answer the key sent.
  bool accept_websocket(const core::http::ResponseHead& head);
  // Suspends until notify() or `until`; true if woken before `until`.
  ports::Awaitable<bool> wait(std::chrono::steady_clock::time_point until);
  ports::Awaitable<void> wait_body();

  H2Downstream& connection_;
  int32_t id_ = 0;
  h2::HeaderBlock head_block_;
  core::http::RequestHead request_;
  proxy::StreamScratch scratch_;
  std::optional<core::http::Error> malformed_;
  std::string cookie_;         // the joined crumbs
  bool websocket_ = false;     // an RFC 8441 extended CONNECT for the WebSocket protocol
  std::string websocket_key_;  // the Sec-WebSocket-Key sent upstream (base64 of 16 bytes)

  // Wake the stream's coroutines (data, window, reset). Two, because the pipeline reads the
  // request body (body_signal_) while it sends the response (signal_): one timer re-armed by
  // two waiters would wake them in turn forever.
  Timer signal_;
  Timer body_signal_;
  proxy::ExchangeDeadline deadline_;  // the pipeline's; kept by the connection

  // Request body (invariant 1).
  proxy::StreamedRequestBody body_;
  h2::HeaderBlock request_trailer_block_;

  // Response (invariants 2 and 3).
  bool response_started_ = false;
  bool has_body_ = false;
  bool continue_sent_ = false;
  h2::OutgoingBody out_;
  core::http::HeaderList scratch_headers_;

  bool closed_ = false;  // nghttp2 closed the stream (done or reset)
  uint32_t close_code_ = 0;
};

}  // namespace vx::adapters::net
