#include "adapters/upstream/h1_upstream_connection.h"

#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <cstring>

#include "adapters/codec/h1/h1_serializer.h"
#include "adapters/upstream/h1_upstream_pool.h"
#include "ports/buffer_view.h"

namespace vx::adapters::upstream {

using core::http::Error;
using core::http::ErrorKind;
namespace asio = boost::asio;

namespace {

// Upstreams are trusted more than clients, but a response head still has a bound.
constexpr h1::ParseLimits kResponseLimits{.max_header_bytes = 64 * 1024, .max_headers = 200};
constexpr size_t kMaxHeadBufferBytes =
    kResponseLimits.max_header_bytes + net::BufferPool::kBufferBytes;

}  // namespace

template <typename Stream>
BasicH1UpstreamConnection<Stream>::BasicH1UpstreamConnection(Stream socket,
                                                             BasicH1UpstreamPool<Stream>& pool,
                                                             uint64_t endpoint_key)
    : socket_(std::move(socket)),
      pool_(pool),
      endpoint_key_(endpoint_key),
      parser_(h1::H1Parser::Mode::Response, kResponseLimits) {
  out_.reserve(2048);
}

template <typename Stream>
void BasicH1UpstreamConnection<Stream>::start_exchange() {
  out_.clear();
  in_begin_ = in_end_ = 0;
  pending_consume_ = 0;
  response_byte_seen_ = false;
  in_body_ = false;
  eof_ = false;
  clean_end_ = false;
  head_.clear();
}

template <typename Stream>
void BasicH1UpstreamConnection<Stream>::go_idle() {
  in_begin_ = in_end_ = 0;  // clean_end(): nothing was left unread
  in_.give_back();
}

template <typename Stream>
bool BasicH1UpstreamConnection<Stream>::alive_while_idle() {
  char byte;
  const ssize_t n = ::recv(tcp_of(socket_).native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

template <typename Stream>
void BasicH1UpstreamConnection<Stream>::cancel() {
  boost::system::error_code ignored;
  tcp_of(socket_).cancel(ignored);
}

template <typename Stream>
Error BasicH1UpstreamConnection<Stream>::read_error(const boost::system::error_code& ec,
                                                    bool any_response_byte) const {
  if (ec == asio::error::operation_aborted) {
    return {ErrorKind::UpstreamTimeout, "upstream timed out"};
  }
  if (!any_response_byte) return {ErrorKind::UpstreamReset, "upstream closed the connection"};
  return {ErrorKind::UpstreamReset, "upstream closed the connection mid-response"};
}

template <typename Stream>
core::Result<void, Error> BasicH1UpstreamConnection<Stream>::send_head(
    const core::http::RequestHead& head) {
  request_chunked_ = head.framing == core::http::BodyFraming::Chunked;
  request_is_head_ = head.method == "HEAD";
  body_pending_ = head.framing != core::http::BodyFraming::None;
  parser_.reset(request_is_head_);
  h1::append_request_head(out_, head, head.upgrade ? "upgrade" : "");
  // With a body, the head goes out with its first bytes (one syscall for small requests).
  if (body_pending_) return {};
  auto sent = flush_now({});
  if (!sent) {  // recv_head writes what the socket did not take
    write_pending_ = true;
    return {};
  }
  return finish_flush(*sent);
}

template <typename Stream>
std::optional<net::SendResult> BasicH1UpstreamConnection<Stream>::flush_now(
    std::span<const std::string_view> body) {
  gather_.clear();
  if (!out_.empty()) gather_.emplace_back(out_.data(), out_.size());
  for (auto piece : body) gather_.emplace_back(piece.data(), piece.size());
  if (gather_.empty()) return net::SendResult{};
  return net::send_now(socket_, gather_);
}

template <typename Stream>
core::Result<void, Error> BasicH1UpstreamConnection<Stream>::finish_flush(
    const net::SendResult& sent) {
  out_.clear();
  const auto& ec = std::get<0>(sent);
  if (!ec) return {};
  return core::unexpected(ec == asio::error::operation_aborted
                              ? Error{ErrorKind::UpstreamTimeout, "upstream write timed out"}
                              : Error{ErrorKind::UpstreamReset, "upstream write failed"});
}

template <typename Stream>
ports::AsyncResult<void> BasicH1UpstreamConnection<Stream>::send_body(
    const ports::BodyChunk& chunk) {
  std::span<const std::string_view> zero_copy = chunk.pieces;
  if (request_chunked_) {
    // Chunk framing goes into out_ with the bytes it frames (copied: one gathered write).
    zero_copy = {};
    for (auto piece : chunk.pieces) {
      if (piece.empty()) continue;
      char header[20];
      out_.append(header, h1::chunk_header(header, piece.size()));
      out_.append(piece);
      out_.append(h1::kCrlf);
    }
    if (chunk.last) {
      static const core::http::HeaderList kNone;
      h1::append_last_chunk(out_, chunk.trailers ? *chunk.trailers : kNone);
    }
  }
  auto sent = flush_now(zero_copy);
  if (sent) {
    co_await ports::yield_after_send(socket_.get_executor());
  } else {
    sent = co_await write_gathered();
  }
  auto flushed = finish_flush(*sent);
  if (chunk.last && flushed) body_pending_ = false;
  co_return flushed;
}

template <typename Stream>
asio::mutable_buffer BasicH1UpstreamConnection<Stream>::read_space() {
  if (!in_.held()) in_.take();
  if (in_end_ == in_.size()) {
    if (in_begin_ > 0) {
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    } else if (in_.size() < kMaxHeadBufferBytes) {
      in_.grow(in_end_);
    }
  }
  return asio::buffer(in_.data() + in_end_, in_.size() - in_end_);
}

template <typename Stream>
std::optional<core::Result<core::http::ResponseHead*, Error>>
BasicH1UpstreamConnection<Stream>::parse_buffered_head() {
  if (pending_consume_ > 0) {  // the previous head was a 1xx: the next message follows it
    in_begin_ += pending_consume_;
    pending_consume_ = 0;
    parser_.reset(request_is_head_);
  }
  const std::string_view buffered(in_.data() + in_begin_, in_end_ - in_begin_);
  const h1::HeadResult r = parser_.parse_head(buffered);
  if (r.status == h1::ParseStatus::Done) {
    parser_.response_head(buffered, head_);
    head_.wire = buffered.substr(0, r.consumed);
    if (head_.status < 200 && head_.status != 101) {
      pending_consume_ = r.consumed;
    } else {
      in_begin_ += r.consumed;
      in_body_ = true;
    }
    return &head_;
  }
  if (r.status == h1::ParseStatus::Error) return core::unexpected(r.error);
  if (in_end_ == in_.size() && in_begin_ == 0 && in_.size() >= kMaxHeadBufferBytes) {
    return core::unexpected(Error{ErrorKind::UpstreamBadResponse, "response head too large"});
  }
  return std::nullopt;
}

template <typename Stream>
std::optional<core::Result<core::http::ResponseHead*, Error>>
BasicH1UpstreamConnection<Stream>::try_recv_head() {
  if (write_pending_) return std::nullopt;
  if (auto done = parse_buffered_head()) return done;
  const auto got = net::recv_now(socket_, read_space());
  if (!got) return std::nullopt;
  const auto& [ec, n] = *got;
  in_end_ += n;
  if (n > 0) response_byte_seen_ = true;
  if (ec) return core::unexpected(read_error(ec, response_byte_seen_));
  return parse_buffered_head();
}

template <typename Stream>
ports::AsyncResult<core::http::ResponseHead*> BasicH1UpstreamConnection<Stream>::recv_head() {
  if (write_pending_) {
    write_pending_ = false;
    auto flushed = finish_flush(co_await write_gathered());
    if (!flushed) co_return core::unexpected(flushed.error());
  }
  for (;;) {
    if (auto done = parse_buffered_head()) co_return *done;
    auto [ec, n] = co_await read_more();
    in_end_ += n;
    if (n > 0) response_byte_seen_ = true;
    if (ec) co_return core::unexpected(read_error(ec, response_byte_seen_));
  }
}

template <typename Stream>
std::optional<core::Result<ports::BodyChunk, Error>>
BasicH1UpstreamConnection<Stream>::try_recv_body() {
  const h1::BodyResult r =
      parser_.parse_body(std::string_view(in_.data() + in_begin_, in_end_ - in_begin_));
  if (r.status == h1::ParseStatus::Error) return core::unexpected(r.error);
  in_begin_ += r.consumed;
  const auto& pieces = parser_.body_pieces();
  if (r.status == h1::ParseStatus::Done) {
    // Bytes after the response would be read by the next exchange: never reuse then.
    clean_end_ = head_.keep_alive && in_begin_ == in_end_;
    return ports::BodyChunk{pieces, true,
                            parser_.trailers().empty() ? nullptr : &parser_.trailers()};
  }
  if (!pieces.empty()) return ports::BodyChunk{pieces, false, nullptr};
  if (eof_) {
    const h1::BodyResult end = parser_.finish();
    if (end.status != h1::ParseStatus::Done) return core::unexpected(end.error);
    return ports::BodyChunk{{}, true, nullptr};
  }
  return std::nullopt;
}

template <typename Stream>
ports::AsyncResult<ports::BodyChunk> BasicH1UpstreamConnection<Stream>::recv_body() {
  for (;;) {
    if (auto ready = try_recv_body()) co_return std::move(*ready);
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;  // releases the pieces handed out last
    auto [ec, n] = co_await read_more();
    in_end_ += n;
    if (ec == asio::error::eof) {
      eof_ = true;
    } else if (ec) {
      co_return core::unexpected(read_error(ec, true));
    }
  }
}

template <typename Stream>
std::string_view BasicH1UpstreamConnection<Stream>::take_leftover() {
  if (pending_consume_ == 0 && in_body_) {
    std::string_view rest(in_.data() + in_begin_, in_end_ - in_begin_);
    in_begin_ = in_end_;
    return rest;
  }
  return {};
}

template <typename Stream>
ports::Awaitable<std::pair<boost::system::error_code, size_t>>
BasicH1UpstreamConnection<Stream>::read_raw(std::span<char> into) {
  auto [ec, n] =
      co_await socket_.async_read_some(asio::buffer(into.data(), into.size()), ports::kDeferTuple);
  co_return std::pair{ec, n};
}

template <typename Stream>
ports::Awaitable<boost::system::error_code> BasicH1UpstreamConnection<Stream>::write_raw(
    std::string_view bytes) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                                            ports::kDeferTuple);
  co_return ec;
}

template class BasicH1UpstreamConnection<Socket>;
template class BasicH1UpstreamConnection<TlsSocket>;

}  // namespace vx::adapters::upstream
