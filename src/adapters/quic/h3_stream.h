// H3Stream: one HTTP/3 request/response exchange on a QUIC connection, as the pipeline sees it
// (proxy::DownstreamExchange). The connection owns it and feeds it nghttp3's events; its own
// coroutine runs the pipeline. Worker thread only.
//
// Invariants:
//  1. Received body bytes are credited back to the peer (QUIC stream and connection flow
//     control) only once the pipeline took them: at most one stream window is buffered here.
//  2. Response bytes are kept until the peer acknowledges them (nghttp3 may retransmit from
//     them); at most kHighWaterBytes of them wait, send_body suspends above that.
//  3. A stream that makes no progress toward the client for idle_timeout is reset; one whose
//     request head is not whole by header_timeout is reset with H3_REQUEST_REJECTED.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include <nghttp3/nghttp3.h>

#include "adapters/codec/h2/header_block.h"
#include "adapters/net/stream.h"
#include "proxy/downstream_exchange.h"
#include "proxy/exchange_deadline.h"
#include "proxy/streamed_request_body.h"

namespace vx::adapters::quic {

class QuicConnection;

class H3Stream final : public proxy::DownstreamExchange {
 public:
  static constexpr size_t kHighWaterBytes = size_t{256} << 10;

  H3Stream(QuicConnection& connection, int64_t id);
  int64_t id() const { return id_; }

  // From the connection (nghttp3's callbacks for this stream).
  void on_header(std::string_view name, std::string_view value, bool trailer);
  // The request head is complete: validates it. True: run() may start.
  void on_headers_end(bool fin);
  void on_data(std::string_view data);
  void on_end_stream();
  void on_closed();
  void on_acked(uint64_t bytes);
  nghttp3_ssize read_data(nghttp3_vec* vec, size_t veccnt, uint32_t* flags);
  // Bytes the peer sent that nobody will read any more (to credit back on close).
  uint64_t unread_bytes() const { return body_.unread_bytes(); }
  // The connection is going away: abort whatever the stream waits for.
  void abort();
  bool closed() const { return closed_; }
  void notify() {
    signal_.cancel();
    body_signal_.cancel();
  }
  std::chrono::steady_clock::time_point expire_if_due(std::chrono::steady_clock::time_point now);

  // Runs the pipeline, then waits until the response is acknowledged or the stream ends.
  ports::Awaitable<void> run();

  // proxy::DownstreamExchange
  core::http::RequestHead& request() override { return request_; }
  std::string_view client_ip() const override;
  ports::ConnectionFacts connection_facts() const override;
  std::string_view listener() const override;
  proxy::DownstreamProtocol protocol() const override { return proxy::DownstreamProtocol::Http3; }
  bool tls() const override { return true; }
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
  void build_request(bool fin);
  // Submits the response head (HEADERS); false when nghttp3 refused it.
  bool submit(uint16_t status, const core::http::HeaderList& headers, bool with_body);
  void queue(std::span<const std::string_view> pieces, bool last,
             const core::http::HeaderList* trailers);
  uint64_t unacked() const { return queued_ - acked_; }
  ports::Awaitable<bool> wait(std::chrono::steady_clock::time_point until);
  ports::Awaitable<void> wait_body();

  QuicConnection& connection_;
  int64_t id_;
  h2::HeaderBlock head_block_;
  size_t head_bytes_ = 0;
  core::http::RequestHead request_;
  proxy::StreamScratch scratch_;
  std::optional<core::http::Error> malformed_;
  std::string cookie_;

  net::Timer signal_;
  net::Timer body_signal_;
  proxy::ExchangeDeadline deadline_;

  proxy::StreamedRequestBody body_;  // invariant 1
  h2::HeaderBlock trailer_block_;

  // Response (invariant 2): chunks from the first unacknowledged byte on; their storage stays
  // put while nghttp3 holds views into them.
  std::deque<std::string> out_;
  size_t front_acked_ = 0;   // bytes of out_.front() acknowledged
  size_t send_chunk_ = 0;    // index in out_ of the next byte to hand to nghttp3
  size_t send_offset_ = 0;   // its offset in that chunk
  uint64_t queued_ = 0;      // total response body bytes queued
  uint64_t handed_ = 0;      // total handed to nghttp3
  uint64_t acked_ = 0;       // total acknowledged by the peer
  bool eof_ = false;         // the last body byte is queued
  bool eof_handed_ = false;  // nghttp3 has seen the end
  h2::HeaderBlock out_trailer_block_;
  std::vector<nghttp3_nv> nv_;
  std::string lower_names_;

  bool head_done_ = false;  // the request head arrived whole (trailers are not a head)
  bool response_started_ = false;
  bool has_body_ = false;
  bool head_submitted_ = false;
  bool closed_ = false;
};

}  // namespace vx::adapters::quic
