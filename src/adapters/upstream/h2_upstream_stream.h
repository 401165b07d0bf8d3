// H2UpstreamStream: one request/response exchange on an H2UpstreamSession, as the pipeline sees
// it (ports::UpstreamStream). Pooled by H2UpstreamPool and reused across exchanges; used on
// one worker's thread, by at most two coroutines at once (the request-body pump sends while
// the response relay receives), each waiting on its own signal.
//
// Invariants:
//  1. Received DATA is acknowledged (WINDOW_UPDATE) only when the pipeline asks for the next
//     chunk, so at most one stream window of response body is buffered here whatever the
//     client's speed.
//  2. At most kHighWaterBytes of request body wait for the upstream's window; send_body
//     suspends above it.
//  3. Released before both sides ended: RST_STREAM(CANCEL), and its unread DATA is given back
//     to the connection window.
#pragma once

#include <string>
#include <vector>

#include "adapters/codec/h2/header_block.h"
#include "adapters/codec/h2/outgoing_body.h"
#include "adapters/upstream/h2_upstream_session.h"
#include "ports/upstream_pool.h"

namespace vx::adapters::upstream {

class H2UpstreamStream final : public ports::UpstreamStream {
 public:
  static constexpr size_t kHighWaterBytes = 64 * 1024;

  H2UpstreamStream(ports::Executor executor, H2UpstreamPool& pool);

  // Starts an exchange on `session` (attached already).
  void start(H2UpstreamSession& session);
  // Ends the exchange (the lease's release); the stream may then be reused.
  void finish();
  H2UpstreamPool& pool() { return pool_; }

  // ports::UpstreamStream
  core::Result<void, core::http::Error> send_head(const core::http::RequestHead& head) override;
  ports::AsyncResult<void> send_body(const ports::BodyChunk& chunk) override;
  ports::AsyncResult<core::http::ResponseHead*> recv_head() override;
  ports::AsyncResult<ports::BodyChunk> recv_body() override;
  // HTTP/2 has no Upgrade (RFC 9113 §8.6): there is never a tunnel to feed.
  std::string_view take_leftover() override { return {}; }
  ports::Awaitable<std::pair<boost::system::error_code, size_t>> read_raw(
      std::span<char> into) override;
  ports::Awaitable<boost::system::error_code> write_raw(std::string_view bytes) override;
  bool reused() const override { return reused_ || refused_; }
  void cancel() override;

  // From the session.
  int32_t id() const { return id_; }
  void on_headers(h2::HeaderBlock& block, bool end_stream);
  void on_data(std::string_view data);
  void on_end_stream();
  void on_closed(uint32_t error_code, bool refused);
  // unprocessed: the peer's GOAWAY said it never processed this stream.
  void on_connection_lost(bool unprocessed);
  long pull_body(uint8_t* into, size_t max, bool& eof, const core::http::HeaderList*& trailers);
  // Bytes of DATA received and not yet acknowledged.
  size_t unacknowledged() const { return in_.size() + taken_.size(); }
  bool closed() const { return closed_; }

 private:
  ports::Awaitable<void> wait(H2Timer& signal);
  void notify() {
    recv_signal_.cancel();
    send_signal_.cancel();
  }
  core::http::Error failure(bool mid_response) const;

  H2UpstreamPool& pool_;
  H2UpstreamSession* session_ = nullptr;
  int32_t id_ = -1;
  bool reused_ = false;
  bool refused_ = false;  // closed unprocessed (GOAWAY, REFUSED_STREAM): safe to resend
  bool head_request_ = false;
  H2Timer recv_signal_;
  H2Timer send_signal_;

  // Request body (invariant 2).
  h2::OutgoingBody out_;

  // Response.
  std::vector<h2::HeaderBlock> heads_;  // received, not yet handed out (1xx, then final)
  size_t heads_at_ = 0;
  bool final_received_ = false;
  bool final_end_stream_ = false;  // the final head ended the stream
  h2::HeaderBlock head_block_;
  core::http::ResponseHead head_;
  std::string in_;     // invariant 1
  std::string taken_;  // handed to the pipeline, acknowledged on the next recv_body
  std::string_view taken_view_;
  bool end_stream_ = false;
  h2::HeaderBlock trailer_block_;
  core::http::HeaderList trailers_;
  bool response_byte_ = false;

  bool closed_ = false;
  uint32_t close_code_ = 0;
  bool lost_ = false;       // the connection died
  bool cancelled_ = false;  // the pipeline's watchdog gave up
};

}  // namespace vx::adapters::upstream
