// FakeUpstreamPool: in-memory upstreams for the pipeline's unit tests. Each acquire takes the
// next scripted origin behaviour (answer, refuse the connection, reset before or during the
// response, never answer) and records what the pipeline sent it. It keeps the UpstreamStream
// contract: the response head and body views live until the next call, a stream that never
// answers waits until cancel() (the exchange's deadline), and a lease reports back whether
// the connection was left reusable. Test use only; on the test's io_context thread.
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ports/upstream_pool.h"

namespace vx::testing {

struct OriginScript {
  enum class Kind : uint8_t {
    Answer,           // the response below
    RefuseConnect,    // acquire fails: nothing was sent
    ResetBeforeHead,  // the request went out, then the connection closed
    ResetMidBody,     // the head and the first body piece, then the connection closed
    NeverAnswer,      // waits until the exchange's deadline cancels it
  };
  Kind kind = Kind::Answer;
  uint16_t status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> body;  // pieces, in order
  // ContentLength adds the content-length field (as an HTTP/1.1 or HTTP/2 origin that knows the
  // length); Chunked is an HTTP/1.1 chunked body or an HTTP/2 body of unknown length.
  core::http::BodyFraming framing = core::http::BodyFraming::ContentLength;
  std::vector<std::pair<std::string, std::string>> trailers;
  bool reused = false;  // the connection came from the idle pool
  // Like most origins, answer only once the whole request body arrived (false: at once, as a
  // full-duplex origin may).
  bool answer_after_body = true;
  // The head's names and values in one buffer, as an HTTP/1 connection reads it (the head's
  // `wire`), scribbled over by the first body read as that connection's buffer is reused.
  bool wire = false;
};

// What one upstream stream was sent.
struct OriginRecord {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  core::http::BodyFraming framing = core::http::BodyFraming::None;
  std::string body;
  bool body_ended = false;
  std::optional<bool> released_reusable;  // how the lease was given back
  bool cancelled = false;

  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (core::http::iequals(n, name)) return std::string_view(v);
    }
    return std::nullopt;
  }
};

class FakeUpstreamStream final : public ports::UpstreamStream {
 public:
  FakeUpstreamStream(boost::asio::io_context& io, OriginScript script, OriginRecord& record)
      : script_(std::move(script)), record_(record), signal_(io) {}

  static void release(ports::UpstreamStream* stream, bool reusable) {
    static_cast<FakeUpstreamStream*>(stream)->record_.released_reusable = reusable;
  }

  core::Result<void, core::http::Error> send_head(const core::http::RequestHead& head) override {
    record_.method = head.method;
    record_.target = head.target;
    record_.framing = head.framing;
    for (const auto& h : head.headers) record_.headers.emplace_back(h.name, h.value);
    expects_body_ = head.framing != core::http::BodyFraming::None;
    return {};
  }

  ports::AsyncResult<void> send_body(const ports::BodyChunk& chunk) override {
    for (auto piece : chunk.pieces) record_.body.append(piece);
    if (chunk.last) {
      record_.body_ended = true;
      signal_.cancel();
    }
    co_return core::Result<void, core::http::Error>{};
  }

  ports::AsyncResult<core::http::ResponseHead*> recv_head() override {
    using Kind = OriginScript::Kind;
    const bool waits_for_body = script_.answer_after_body && expects_body_;
    while (!cancelled_ &&
           (script_.kind == Kind::NeverAnswer || (waits_for_body && !record_.body_ended))) {
      signal_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await signal_.async_wait(ports::kDeferTuple);
    }
    if (cancelled_ || script_.kind == Kind::NeverAnswer || script_.kind == Kind::ResetBeforeHead) {
      co_return core::unexpected(
          core::http::Error{core::http::ErrorKind::UpstreamReset, "upstream reset"});
    }
    head_.status = script_.status;
    for (const auto& [name, value] : script_.headers) head_.headers.push_back({name, value});
    size_t length = 0;
    for (const auto& piece : script_.body) length += piece.size();
    head_.framing = script_.framing;
    if (script_.framing == core::http::BodyFraming::ContentLength) {
      head_.content_length = length;
      length_text_ = std::to_string(length);
      head_.headers.push_back({"content-length", length_text_});
    }
    for (const auto& [name, value] : script_.trailers) trailers_.push_back({name, value});
    if (script_.wire) {
      wire_.clear();
      for (const auto& h : head_.headers) wire_.append(h.name).append(h.value);
      const char* at = wire_.data();
      for (auto& h : head_.headers) {
        h.name = {at, h.name.size()};
        h.value = {at + h.name.size(), h.value.size()};
        at += h.name.size() + h.value.size();
      }
      head_.wire = wire_;
    }
    co_return &head_;
  }

  ports::AsyncResult<ports::BodyChunk> recv_body() override {
    std::fill(wire_.begin(), wire_.end(), '#');  // the head's buffer is reused
    if (script_.kind == OriginScript::Kind::ResetMidBody && next_piece_ == 1) {
      co_return core::unexpected(
          core::http::Error{core::http::ErrorKind::UpstreamReset, "reset mid-body"});
    }
    if (next_piece_ < script_.body.size()) {
      piece_ = script_.body[next_piece_++];
      const bool last =
          next_piece_ == script_.body.size() && script_.kind != OriginScript::Kind::ResetMidBody;
      co_return ports::BodyChunk{
          {&piece_, 1}, last, last && !trailers_.empty() ? &trailers_ : nullptr};
    }
    co_return ports::BodyChunk{{}, true, trailers_.empty() ? nullptr : &trailers_};
  }

  std::string_view take_leftover() override { return {}; }
  ports::Awaitable<std::pair<boost::system::error_code, size_t>> read_raw(
      std::span<char>) override {
    co_return std::pair{boost::asio::error::make_error_code(boost::asio::error::eof), size_t{0}};
  }
  ports::Awaitable<boost::system::error_code> write_raw(std::string_view) override {
    co_return boost::asio::error::make_error_code(boost::asio::error::broken_pipe);
  }
  bool reused() const override { return script_.reused; }
  void cancel() override {
    cancelled_ = true;
    record_.cancelled = true;
    signal_.cancel();
  }

 private:
  OriginScript script_;
  OriginRecord& record_;
  boost::asio::steady_timer signal_;
  core::http::ResponseHead head_;
  std::string length_text_;
  std::string wire_;
  core::http::HeaderList trailers_;
  size_t next_piece_ = 0;
  std::string_view piece_;
  bool expects_body_ = false;
  bool cancelled_ = false;
};

class FakeUpstreamPool final : public ports::UpstreamPool {
 public:
  explicit FakeUpstreamPool(boost::asio::io_context& io) : io_(io) {}

  // The behaviour of the next acquire; without one, an origin answers 200 "ok".
  void script(OriginScript next) { scripts_.push_back(std::move(next)); }
  // One record per stream the pipeline was given, in order (not for refused connections).
  const std::deque<OriginRecord>& records() const { return records_; }
  size_t acquires() const { return acquires_; }
  // The endpoint id of every acquire, in order.
  const std::vector<uint64_t>& targets() const { return targets_; }
  const std::vector<bool>& fresh_only() const { return fresh_only_; }

  ports::AsyncResult<ports::UpstreamLease> acquire(const ports::UpstreamTarget& target,
                                                   bool fresh_only) override {
    ++acquires_;
    targets_.push_back(target.endpoint_id);
    fresh_only_.push_back(fresh_only);
    OriginScript next;
    next.body = {"ok"};
    if (!scripts_.empty()) {
      next = std::move(scripts_.front());
      scripts_.pop_front();
    }
    if (next.kind == OriginScript::Kind::RefuseConnect) {
      co_return core::unexpected(
          core::http::Error{core::http::ErrorKind::UpstreamConnectRefused, "connection refused"});
    }
    auto& record = records_.emplace_back();
    streams_.push_back(std::make_unique<FakeUpstreamStream>(io_, std::move(next), record));
    co_return ports::UpstreamLease(streams_.back().get(), &FakeUpstreamStream::release);
  }

  ports::UpstreamLease take_idle(const ports::UpstreamTarget&) override { return {}; }

 private:
  boost::asio::io_context& io_;
  std::deque<OriginScript> scripts_;
  std::deque<OriginRecord> records_;  // deque: records keep their address as streams point at them
  std::vector<std::unique_ptr<FakeUpstreamStream>> streams_;
  size_t acquires_ = 0;
  std::vector<uint64_t> targets_;
  std::vector<bool> fresh_only_;
};

}  // namespace vx::testing
