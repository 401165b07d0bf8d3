#include "adapters/upstream/h2_upstream_stream.h"

#include <cstring>

#include "core/http/h2_response.h"

namespace vx::adapters::upstream {

using core::http::Error;
using core::http::ErrorKind;
using SteadyClock = std::chrono::steady_clock;

H2UpstreamStream::H2UpstreamStream(ports::Executor executor, H2UpstreamPool& pool)
    : pool_(pool), recv_signal_(executor), send_signal_(executor) {}

void H2UpstreamStream::start(H2UpstreamSession& session) {
  session_ = &session;
  id_ = -1;
  reused_ = session.used();
  refused_ = false;
  head_request_ = false;
  out_.clear();
  heads_.clear();
  heads_at_ = 0;
  final_received_ = final_end_stream_ = false;
  head_.clear();
  in_.clear();
  taken_.clear();
  end_stream_ = false;
  trailers_.clear();
  response_byte_ = false;
  closed_ = lost_ = cancelled_ = false;
  close_code_ = 0;
}

void H2UpstreamStream::finish() {
  if (session_) session_->detach(*this);
  session_ = nullptr;
}

ports::Awaitable<void> H2UpstreamStream::wait(H2Timer& signal) {
  signal.expires_at(SteadyClock::time_point::max());
  co_await signal.async_wait(ports::kDeferTuple);
}

Error H2UpstreamStream::failure(bool mid_response) const {
  if (cancelled_) return {ErrorKind::UpstreamTimeout, "upstream timed out"};
  if (refused_) return {ErrorKind::UpstreamReset, "upstream refused the stream"};
  if (lost_) {
    return mid_response ? Error{ErrorKind::UpstreamReset, "upstream connection lost mid-response"}
                        : Error{ErrorKind::UpstreamReset, "upstream connection lost"};
  }
  if (refused_) return {ErrorKind::UpstreamReset, "upstream refused the stream"};
  return mid_response ? Error{ErrorKind::UpstreamReset, "upstream reset the stream mid-response"}
                      : Error{ErrorKind::UpstreamReset, "upstream reset the stream"};
}

void H2UpstreamStream::cancel() {
  cancelled_ = true;
  notify();
}

core::Result<void, Error> H2UpstreamStream::send_head(const core::http::RequestHead& head) {
  head_request_ = head.method == "HEAD";
  auto id = session_->open_stream(*this, head);
  if (!id) {
    refused_ = true;  // nothing was sent: safe to resend elsewhere
    return core::unexpected(id.error());
  }
  id_ = *id;
  return {};
}

ports::AsyncResult<void> H2UpstreamStream::send_body(const ports::BodyChunk& chunk) {
  if (closed_ || lost_ || cancelled_) co_return core::unexpected(failure(false));
  out_.queue(chunk.pieces, chunk.last, chunk.trailers);
  session_->codec().resume(id_);
  session_->wake_writer();
  // Invariant 2. The pipeline's watchdog bounds the wait (cancel()).
  while (out_.unsent() > kHighWaterBytes && !closed_ && !lost_ && !cancelled_) {
    co_await wait(send_signal_);
  }
  if (!out_.done && (closed_ || lost_ || cancelled_)) co_return core::unexpected(failure(false));
  co_return core::Result<void, Error>{};
}

long H2UpstreamStream::pull_body(uint8_t* into, size_t max, bool& eof,
                                 const core::http::HeaderList*& trailers) {
  const long n = out_.pull(into, max, eof, trailers);
  // -1: nothing queued yet, resumed by the next send_body. Else a send_body waiting above high
  // water may go on.
  if (n >= 0) send_signal_.cancel();
  return n;
}

void H2UpstreamStream::on_headers(h2::HeaderBlock& block, bool end_stream) {
  response_byte_ = true;
  if (final_received_) {  // trailers (RFC 9113 §8.1)
    trailer_block_ = std::move(block);
    trailers_.clear();
    trailer_block_.regular_fields(trailers_);
  } else {
    const uint16_t status = core::http::parse_h2_status(block.find(":status"));
    if (status >= 200 || status == 0) {
      final_received_ = true;
      final_end_stream_ = end_stream;
    }
    heads_.push_back(std::move(block));
  }
  recv_signal_.cancel();
}

void H2UpstreamStream::on_data(std::string_view data) {
  response_byte_ = true;
  in_.append(data);
  recv_signal_.cancel();
}

void H2UpstreamStream::on_end_stream() {
  end_stream_ = true;
  recv_signal_.cancel();
}

void H2UpstreamStream::on_closed(uint32_t error_code, bool refused) {
  closed_ = true;
  close_code_ = error_code;
  if (!response_byte_ && refused) refused_ = true;
  notify();
}

void H2UpstreamStream::on_connection_lost(bool unprocessed) {
  lost_ = true;
  if (!response_byte_ && unprocessed) refused_ = true;
  closed_ = true;
  notify();
}

ports::AsyncResult<core::http::ResponseHead*> H2UpstreamStream::recv_head() {
  for (;;) {
    if (heads_at_ < heads_.size()) {
      head_block_ = std::move(heads_[heads_at_++]);
      if (heads_at_ == heads_.size()) {
        heads_.clear();
        heads_at_ = 0;
      }
      head_.clear();
      head_.status = core::http::parse_h2_status(head_block_.find(":status"));
      if (head_.status == 0 || head_.status == 101) {
        co_return core::unexpected(
            Error{ErrorKind::UpstreamBadResponse, "upstream sent an invalid :status"});
      }
      head_block_.regular_fields(head_.headers);
      if (head_.status >= 200) {
        const auto framing = core::http::h2_response_framing(
            head_.status, core::http::find_header(head_.headers, "content-length"),
            final_end_stream_, head_request_);
        if (!framing.valid) {
          co_return core::unexpected(
              Error{ErrorKind::UpstreamBadResponse, "upstream sent an invalid content-length"});
        }
        head_.framing = framing.framing;
        head_.content_length = framing.content_length;
      }
      head_.keep_alive = true;
      co_return &head_;
    }
    if (closed_ || cancelled_) co_return core::unexpected(failure(false));
    co_await wait(recv_signal_);
  }
}

ports::AsyncResult<ports::BodyChunk> H2UpstreamStream::recv_body() {
  // Invariant 1: what the pipeline took last time is acknowledged now.
  if (!taken_.empty()) {
    if (!lost_) {
      session_->codec().consume(id_, taken_.size());
      session_->wake_writer();
    }
    taken_.clear();
  }
  for (;;) {
    if (!in_.empty()) {
      taken_.swap(in_);
      taken_view_ = taken_;
      const bool last = end_stream_;
      co_return ports::BodyChunk{
          {&taken_view_, 1}, last, last && !trailers_.empty() ? &trailers_ : nullptr};
    }
    if (end_stream_) {
      co_return ports::BodyChunk{{}, true, trailers_.empty() ? nullptr : &trailers_};
    }
    if (closed_ || cancelled_) co_return core::unexpected(failure(true));
    co_await wait(recv_signal_);
  }
}

ports::Awaitable<std::pair<boost::system::error_code, size_t>> H2UpstreamStream::read_raw(
    std::span<char>) {
  co_return std::pair{boost::system::error_code(boost::asio::error::operation_not_supported), 0};
}

ports::Awaitable<boost::system::error_code> H2UpstreamStream::write_raw(std::string_view) {
  co_return boost::system::error_code(boost::asio::error::operation_not_supported);
}

}  // namespace vx::adapters::upstream
