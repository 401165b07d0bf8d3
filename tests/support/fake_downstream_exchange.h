// FakeDownstreamExchange: an in-memory client for the pipeline's unit tests. It hands the
// pipeline a scripted request (head, body pieces, or a failure while the body is read) and
// records every byte of the answer. It keeps the DownstreamExchange contract: views live until
// the next call, deadlines are real (a timer that cancels the watched upstream stream, as a
// connection's watchdog does), and a response once started cannot be replaced. Test use only;
// one per stream, on the test's io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ports/awaitable_result.h"
#include "proxy/downstream_exchange.h"

namespace vx::testing {

class FakeDownstreamExchange final : public proxy::DownstreamExchange {
 public:
  struct Request {
    std::string method = "GET";
    std::string authority = "example.com";
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::string> body;  // pieces, in order; non-empty makes a body
    bool chunked = false;           // body framing: chunked (else Content-Length)
    // After the body pieces, instead of the end: the client went away, or a limit hit.
    std::optional<core::http::Error> body_error;
    bool tls = false;
  };

  struct Answer {
    uint16_t status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    core::http::BodyFraming framing = core::http::BodyFraming::None;
    std::string body;
    std::vector<std::string> chunks;  // send_body calls with bytes, one entry each
    bool local = false;               // send_local rather than send_head
    bool complete = false;            // the last body piece (or the whole local answer) went out
    std::vector<std::pair<std::string, std::string>> trailers;
    std::vector<uint16_t> interim;
    bool continue_sent = false;
  };

  FakeDownstreamExchange(boost::asio::io_context& io, Request request)
      : spec_(std::move(request)), watchdog_(io) {
    head_.method = spec_.method;
    head_.authority = spec_.authority;
    head_.target = spec_.target;
    for (const auto& [name, value] : spec_.headers) head_.headers.push_back({name, value});
    size_t length = 0;
    for (const auto& piece : spec_.body) length += piece.size();
    if (!spec_.body.empty() || spec_.body_error) {
      if (spec_.chunked) {
        head_.framing = core::http::BodyFraming::Chunked;
      } else {
        head_.framing = core::http::BodyFraming::ContentLength;
        head_.content_length = length;
        length_text_ = std::to_string(length);
        head_.headers.push_back({"content-length", length_text_});
      }
    }
  }

  const Answer& answer() const { return answer_; }
  std::optional<std::string_view> answer_header(std::string_view name) const {
    for (const auto& [n, v] : answer_.headers) {
      if (core::http::iequals(n, name)) return std::string_view(v);
    }
    return std::nullopt;
  }
  size_t body_reads() const { return next_piece_; }

  // proxy::DownstreamExchange
  core::http::RequestHead& request() override { return head_; }
  std::string_view client_ip() const override { return "192.0.2.10"; }
  bool tls() const override { return spec_.tls; }
  proxy::StreamScratch& scratch() override { return scratch_; }
  std::chrono::milliseconds idle_timeout() const override { return std::chrono::seconds(5); }

  ports::AsyncResult<void> send_continue() override {
    answer_.continue_sent = true;
    co_return core::Result<void, core::http::Error>{};
  }

  ports::AsyncResult<ports::BodyChunk> read_body() override {
    if (head_.framing == core::http::BodyFraming::None) co_return ports::BodyChunk{{}, true};
    if (next_piece_ < spec_.body.size()) {
      piece_ = spec_.body[next_piece_++];
      const bool last = next_piece_ == spec_.body.size() && !spec_.body_error;
      co_return ports::BodyChunk{{&piece_, 1}, last};
    }
    if (spec_.body_error) co_return core::unexpected(*spec_.body_error);
    co_return ports::BodyChunk{{}, true};
  }

  ports::AsyncResult<void> send_interim(const core::http::ResponseHead& head) override {
    answer_.interim.push_back(head.status);
    co_return core::Result<void, core::http::Error>{};
  }

  core::Result<void, core::http::Error> send_head(const core::http::ResponseHead& head) override {
    started_ = true;
    answer_.status = head.status;
    answer_.framing = head.framing;
    for (const auto& h : head.headers) answer_.headers.emplace_back(h.name, h.value);
    if (head.framing == core::http::BodyFraming::None) answer_.complete = true;
    return {};
  }

  ports::AsyncResult<void> send_body(const ports::BodyChunk& chunk) override {
    std::string bytes;
    for (auto piece : chunk.pieces) bytes.append(piece);
    if (!bytes.empty()) answer_.chunks.push_back(bytes);
    answer_.body += bytes;
    if (chunk.last) answer_.complete = true;
    if (chunk.trailers) {
      for (const auto& h : *chunk.trailers) answer_.trailers.emplace_back(h.name, h.value);
    }
    co_return core::Result<void, core::http::Error>{};
  }

  ports::AsyncResult<void> send_local(uint16_t status, std::string_view content_type,
                                      std::string_view body,
                                      const core::http::HeaderList& extra) override {
    if (started_) throw std::logic_error("send_local after the response started");
    started_ = true;
    answer_.local = true;
    answer_.status = status;
    for (const auto& h : extra) answer_.headers.emplace_back(h.name, h.value);
    if (!content_type.empty()) answer_.headers.emplace_back("content-type", content_type);
    answer_.body.assign(body);
    answer_.complete = true;
    co_return core::Result<void, core::http::Error>{};
  }

  bool response_started() const override { return started_; }

  ports::Awaitable<void> tunnel(ports::UpstreamStream&) override { co_return; }

  void arm_deadline(std::chrono::steady_clock::time_point deadline,
                    ports::UpstreamStream* upstream) override {
    watched_ = upstream;
    watchdog_.expires_at(deadline);
    watchdog_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;  // re-armed or cancelled
      expired_ = true;
      if (watched_) watched_->cancel();
    });
  }
  bool deadline_expired() const override { return expired_; }

  // Stops the watchdog so the test's io_context can run out of work.
  void disarm() { watchdog_.cancel(); }

 private:
  Request spec_;
  core::http::RequestHead head_;
  std::string length_text_;
  proxy::StreamScratch scratch_;
  size_t next_piece_ = 0;
  std::string_view piece_;
  Answer answer_;
  bool started_ = false;
  boost::asio::steady_timer watchdog_;
  ports::UpstreamStream* watched_ = nullptr;
  bool expired_ = false;
};

}  // namespace vx::testing
