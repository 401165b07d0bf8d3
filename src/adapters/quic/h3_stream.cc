#include "adapters/quic/h3_stream.h"

#include <charconv>

#include "adapters/codec/h2/request_head.h"
#include "adapters/quic/quic_connection.h"
#include "ports/deadline_clock.h"
#include "proxy/pipeline.h"

namespace vx::adapters::quic {

using core::http::BodyFraming;
using core::http::Error;
using core::http::ErrorKind;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Fields HTTP/3 forbids (RFC 9114 §4.2): connection-specific ones.
bool connection_specific(std::string_view lower) {
  return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection" ||
         lower == "transfer-encoding" || lower == "upgrade" || lower == "host";
}

// Chunks are merged up to this size while nghttp3 has not seen them.
constexpr size_t kMergeBytes = size_t{64} << 10;

nghttp3_nv make_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP3_NV_FLAG_NONE};
}

}  // namespace

H3Stream::H3Stream(QuicConnection& connection, int64_t id)
    : connection_(connection),
      id_(id),
      signal_(connection.executor()),
      body_signal_(connection.executor()) {
  deadline_.reset(ports::deadline_now() + connection_.limits().header_timeout);
}

void H3Stream::on_header(std::string_view name, std::string_view value, bool trailer) {
  h2::HeaderBlock& block = trailer ? trailer_block_ : head_block_;
  const auto& limits = connection_.limits();
  // RFC 9114 §4.2.2: the size as SETTINGS_MAX_FIELD_SECTION_SIZE counts it.
  head_bytes_ += name.size() + value.size() + 32;
  if (head_bytes_ > limits.max_header_bytes || block.fields.size() > limits.max_headers + 8) {
    block.too_large = true;
    return;
  }
  block.add(name, value);
}

void H3Stream::on_headers_end(bool fin) {
  head_done_ = true;
  build_request(fin);
}

void H3Stream::build_request(bool fin) {
  if (fin) body_.end();
  static const std::optional<Error> kNoConnect =
      Error{ErrorKind::BadRequest, "CONNECT is not supported over HTTP/3"};
  malformed_ = h2::check_request_head(head_block_, kNoConnect);
  if (!malformed_) h2::read_request_head(head_block_, fin, cookie_, request_);
}

std::string_view H3Stream::client_ip() const {
  return connection_.client_ip();
}
ports::ConnectionFacts H3Stream::connection_facts() const {
  return connection_.facts();
}
std::string_view H3Stream::listener() const {
  return connection_.facts().listener;
}
std::chrono::milliseconds H3Stream::idle_timeout() const {
  return connection_.limits().idle_timeout;
}

void H3Stream::on_data(std::string_view data) {
  body_.append(data);
  notify();
}

void H3Stream::on_end_stream() {
  body_.end();
  if (!trailer_block_.fields.empty() && !trailer_block_.too_large) {
    body_.trailers().clear();
    trailer_block_.regular_fields(body_.trailers());
  }
  notify();
}

void H3Stream::on_closed() {
  closed_ = true;
  notify();  // the upstream exchange is left to end on its own, as on HTTP/2
}

void H3Stream::abort() {
  closed_ = true;
  notify();
}

void H3Stream::on_acked(uint64_t bytes) {
  acked_ += bytes;
  while (bytes > 0 && !out_.empty()) {
    const size_t take = std::min<uint64_t>(bytes, out_.front().size() - front_acked_);
    front_acked_ += take;
    bytes -= take;
    if (front_acked_ == out_.front().size()) {
      out_.pop_front();
      front_acked_ = 0;
      if (send_chunk_ > 0) --send_chunk_;
    }
  }
  notify();  // progress: a send_body above high water may go on
}

nghttp3_ssize H3Stream::read_data(nghttp3_vec* vec, size_t veccnt, uint32_t* flags) {
  size_t n = 0;
  while (n < veccnt && send_chunk_ < out_.size()) {
    std::string& chunk = out_[send_chunk_];
    vec[n].base = reinterpret_cast<uint8_t*>(chunk.data() + send_offset_);
    vec[n].len = chunk.size() - send_offset_;
    handed_ += vec[n].len;
    ++n;
    ++send_chunk_;
    send_offset_ = 0;
  }
  if (n == 0 && !eof_) return NGHTTP3_ERR_WOULDBLOCK;  // resumed by the next send_body
  if (eof_ && handed_ == queued_) {
    *flags |= NGHTTP3_DATA_FLAG_EOF;
    eof_handed_ = true;
    if (!out_trailer_block_.fields.empty()) {
      nv_.clear();
      for (const auto& f : out_trailer_block_.fields) {
        nv_.push_back(make_nv(out_trailer_block_.name(f), out_trailer_block_.value(f)));
      }
      if (nghttp3_conn_submit_trailers(connection_.h3(), id_, nv_.data(), nv_.size()) == 0) {
        *flags |= NGHTTP3_DATA_FLAG_NO_END_STREAM;
      }
    }
  }
  return static_cast<nghttp3_ssize>(n);
}

void H3Stream::queue(std::span<const std::string_view> pieces, bool last,
                     const core::http::HeaderList* trailers) {
  for (auto piece : pieces) {
    if (piece.empty()) continue;
    // Merge into the last chunk while nghttp3 holds no view into it.
    const bool mergeable = !out_.empty() && send_chunk_ < out_.size() &&
                           (send_chunk_ < out_.size() - 1 || send_offset_ == 0) &&
                           out_.back().size() + piece.size() <= kMergeBytes;
    if (mergeable) {
      out_.back().append(piece);
    } else {
      out_.emplace_back(piece);
    }
    queued_ += piece.size();
  }
  if (!last) return;
  eof_ = true;
  if (trailers && !trailers->empty()) {
    out_trailer_block_.clear();
    for (const auto& h : *trailers) {
      std::string lower(h.name);
      for (char& c : lower) c = core::http::ascii_lower(c);
      if (connection_specific(lower)) continue;
      out_trailer_block_.add(lower, h.value);
    }
  }
}

bool H3Stream::submit(uint16_t status, const core::http::HeaderList& headers, bool with_body) {
  char status_text[4];
  std::to_chars(status_text, status_text + 3, status);
  // Lower-cased names live in one buffer sized first, so views into it stay put.
  size_t name_bytes = 0;
  for (const auto& h : headers) name_bytes += h.name.size();
  lower_names_.resize(name_bytes);
  nv_.clear();
  nv_.push_back(make_nv(":status", std::string_view(status_text, 3)));
  size_t at = 0;
  for (const auto& h : headers) {
    char* name = lower_names_.data() + at;
    for (size_t i = 0; i < h.name.size(); ++i) name[i] = core::http::ascii_lower(h.name[i]);
    const std::string_view lower(name, h.name.size());
    at += h.name.size();
    if (connection_specific(lower)) continue;
    nv_.push_back(make_nv(lower, h.value));
  }
  static const nghttp3_data_reader kReader{QuicConnection::h3_read_data};
  head_submitted_ = true;
  const int rv = nghttp3_conn_submit_response(connection_.h3(), id_, nv_.data(), nv_.size(),
                                              with_body ? &kReader : nullptr);
  connection_.wake();
  return rv == 0;
}

ports::Awaitable<void> H3Stream::run() {
  if (malformed_) {
    const std::string body = core::http::error_body(*malformed_);
    static const core::http::HeaderList kNone;
    co_await send_local(core::http::status_for(malformed_->kind), "application/json", body, kNone);
  } else {
    co_await proxy::serve_stream(*this, connection_.worker());
  }
  if (response_started_ && has_body_ && !eof_ && !closed_) {
    // The pipeline gave up mid-response: the client learns it now.
    connection_.reset_stream(id_, NGHTTP3_H3_INTERNAL_ERROR);
    closed_ = true;
  }
  // Invariant 3 also bounds the wait for the last acknowledgements.
  uint64_t last_acked = acked_;
  auto stall_deadline = ports::deadline_now() + idle_timeout();
  while (response_started_ && has_body_ && acked_ < queued_ && !closed_) {
    if (!co_await wait(stall_deadline)) {
      if (acked_ == last_acked) break;
    }
    if (acked_ != last_acked) {
      last_acked = acked_;
      stall_deadline = ports::deadline_now() + idle_timeout();
    }
  }
  const bool complete = response_started_ && (!has_body_ || acked_ == queued_);
  if (!closed_) {
    if (!complete) {
      connection_.reset_stream(id_, NGHTTP3_H3_INTERNAL_ERROR);
    } else if (!body_.ended()) {
      // RFC 9114 §4.1: the response is complete; the rest of the request is not needed.
      ngtcp2_conn_shutdown_stream_read(connection_.quic(), id_, NGHTTP3_H3_NO_ERROR);
      connection_.wake();
    }
  }
  connection_.consume(id_, body_.unread_bytes());
  body_.clear();
}

ports::Awaitable<bool> H3Stream::wait(SteadyClock::time_point until) {
  signal_.expires_at(until);
  auto [ec] = co_await signal_.async_wait(ports::kDeferTuple);
  co_return ec == boost::asio::error::operation_aborted;
}

ports::Awaitable<void> H3Stream::wait_body() {
  body_signal_.expires_at(SteadyClock::time_point::max());
  co_await body_signal_.async_wait(ports::kDeferTuple);
}

void H3Stream::arm_deadline(SteadyClock::time_point deadline, ports::UpstreamStream* upstream) {
  deadline_.arm(deadline, upstream);
  connection_.watch_deadline(deadline);
}

SteadyClock::time_point H3Stream::expire_if_due(SteadyClock::time_point now) {
  if (!deadline_.expire_if_due(now)) return deadline_.at();
  if (!head_done_ && !closed_) {
    // No pipeline runs yet to answer 408: the head is incomplete (a slow client, or a field
    // section waiting for a QPACK insert that never comes). RFC 9114 §8.1: nothing of it was
    // processed.
    connection_.reset_stream(id_, NGHTTP3_H3_REQUEST_REJECTED);
    closed_ = true;
  }
  notify();
  return deadline_.at();
}

ports::AsyncResult<ports::BodyChunk> H3Stream::read_body() {
  // Invariant 1: what the pipeline took last time is credited now.
  if (const size_t taken = body_.take_credit()) connection_.consume(id_, taken);
  for (;;) {
    if (auto next = body_.next(connection_.limits().max_body_bytes, closed_, deadline_.expired())) {
      co_return std::move(*next);
    }
    co_await wait_body();
  }
}

ports::AsyncResult<void> H3Stream::send_continue() {
  // HTTP/3 clients do not wait for 100 Continue before sending (flow control bounds them).
  co_return core::Result<void, Error>{};
}

ports::AsyncResult<void> H3Stream::send_interim(const core::http::ResponseHead& head) {
  if (head.status == 101 || closed_ || !connection_.h3()) co_return core::Result<void, Error>{};
  char status_text[4];
  std::to_chars(status_text, status_text + 3, head.status);
  nv_.clear();
  nv_.push_back(make_nv(":status", std::string_view(status_text, 3)));
  nghttp3_conn_submit_info(connection_.h3(), id_, nv_.data(), nv_.size());
  connection_.wake();
  co_return core::Result<void, Error>{};
}

core::Result<void, Error> H3Stream::send_head(const core::http::ResponseHead& head) {
  response_started_ = true;
  if (head.status == 101) {
    return core::unexpected(
        Error{ErrorKind::UpstreamBadResponse, "upgrade is not supported over HTTP/3"});
  }
  if (closed_) {
    return core::unexpected(Error{ErrorKind::DownstreamClosed, "client reset the stream"});
  }
  has_body_ = request_.method != "HEAD" && head.framing != BodyFraming::None &&
              head.status != 204 && head.status != 304;
  if (!submit(head.status, head.headers, has_body_)) {
    return core::unexpected(Error{ErrorKind::DownstreamClosed, "stream refused the response"});
  }
  return {};
}

ports::AsyncResult<void> H3Stream::send_body(const ports::BodyChunk& chunk) {
  if (!has_body_) co_return core::Result<void, Error>{};
  if (closed_) {
    co_return core::unexpected(Error{ErrorKind::DownstreamClosed, "client reset the stream"});
  }
  queue(chunk.pieces, chunk.last, chunk.trailers);
  nghttp3_conn_resume_stream(connection_.h3(), id_);
  connection_.wake();
  // Invariant 2: above high water, wait for acknowledgements; invariant 3: not forever.
  uint64_t last_acked = acked_;
  auto stall_deadline = ports::deadline_now() + idle_timeout();
  while (unacked() > kHighWaterBytes && !closed_) {
    const bool woken = co_await wait(stall_deadline);
    if (acked_ != last_acked) {
      last_acked = acked_;
      stall_deadline = ports::deadline_now() + idle_timeout();
    } else if (!woken && SteadyClock::now() >= stall_deadline) {
      closed_ = true;
      co_return core::unexpected(Error{ErrorKind::DownstreamClosed, "client stopped reading"});
    }
  }
  if (closed_ && !(eof_ && acked_ == queued_)) {
    co_return core::unexpected(Error{ErrorKind::DownstreamClosed, "client reset the stream"});
  }
  co_return core::Result<void, Error>{};
}

ports::AsyncResult<void> H3Stream::send_local(uint16_t status, std::string_view content_type,
                                              std::string_view body,
                                              const core::http::HeaderList& extra) {
  response_started_ = true;
  if (closed_ || !connection_.h3()) {
    co_return core::unexpected(Error{ErrorKind::DownstreamClosed, "client reset the stream"});
  }
  char length[24];
  const auto end = std::to_chars(length, length + sizeof length, body.size()).ptr;
  core::http::HeaderList headers = extra;
  if (!content_type.empty()) headers.push_back({"content-type", content_type});
  headers.push_back({"content-length", std::string_view(length, end - length)});
  has_body_ = request_.method != "HEAD" && !body.empty();
  if (has_body_) {
    const std::string_view piece = body;
    queue({&piece, 1}, true, nullptr);
  }
  submit(status, headers, has_body_);
  co_return core::Result<void, Error>{};
}

ports::Awaitable<void> H3Stream::tunnel(ports::UpstreamStream&) {
  co_return;  // send_head refuses 101: no tunnel starts over HTTP/3 (RFC 9220 not offered)
}

}  // namespace vx::adapters::quic
