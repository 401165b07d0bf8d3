// DownstreamExchange: one request/response exchange with a client, as the pipeline sees it,
// whatever the HTTP version. Implemented by each codec's connection (adapters/net). One per
// stream; used by one coroutine at a time.
#pragma once

#include <optional>
#include <string_view>

#include "core/http/message_head.h"
#include "ports/filter_stream.h"
#include "ports/upstream_pool.h"
#include "proxy/request_logger.h"
#include "proxy/stream_scratch.h"

namespace vx::proxy {

class DownstreamExchange {
 public:
  virtual ~DownstreamExchange() = default;

  // The request head; its views live until the first read_body() call (the pipeline forwards
  // the head before reading the body). The pipeline and its filters edit it in place.
  virtual core::http::RequestHead& request() = 0;
  virtual std::string_view client_ip() const = 0;
  virtual bool tls() const = 0;
  // Addresses, listener and protocol of the request's connection; views live as long as the
  // exchange. The default knows only the client's address.
  virtual ports::ConnectionFacts connection_facts() const {
    ports::ConnectionFacts facts;
    facts.client_ip = client_ip();
    facts.protocol = "HTTP/1.1";
    return facts;
  }
  // The configured listener's name (outlives the exchange) and the protocol the request came in
  // on, for counts by protocol: unlike connection_facts(), no syscall and nothing built.
  virtual std::string_view listener() const { return {}; }
  virtual DownstreamProtocol protocol() const { return DownstreamProtocol::Http1; }
  virtual StreamScratch& scratch() = 0;
  // The keep-alive idle timeout: the longest any single wait of the exchange may take.
  virtual std::chrono::milliseconds idle_timeout() const = 0;

  // "100 Continue" when the client asked for it (Expect: 100-continue); no-op otherwise.
  virtual ports::AsyncResult<void> send_continue() = 0;
  // The next piece of the request body; last = true at its end (immediately for no body).
  // Views live until the next call. Limit errors (413) and client aborts come back as errors.
  virtual ports::AsyncResult<ports::BodyChunk> read_body() = 0;

  virtual ports::AsyncResult<void> send_interim(const core::http::ResponseHead& head) = 0;
  // The final head, queued: it goes out with the first body bytes (or, after a 101, when the
  // tunnel starts), so this never suspends. The codec chooses its own framing from
  // head.framing: e.g. HTTP/1.1 turns a close-delimited upstream body into chunked. HEAD
  // requests send no body.
  virtual core::Result<void, core::http::Error> send_head(const core::http::ResponseHead& head) = 0;
  virtual ports::AsyncResult<void> send_body(const ports::BodyChunk& chunk) = 0;
  // send_body() without a coroutine frame when it need not wait: the result once the socket
  // took the whole chunk at once (the common case for small responses). nullopt: await
  // send_body(chunk), which sends what is left of it.
  virtual std::optional<core::Result<void, core::http::Error>> try_send_body(
      const ports::BodyChunk& chunk) {
    return std::nullopt;
  }
  // A complete local answer (errors, direct_response, 429, a filter's): head + body in one
  // write, with `extra` fields and Content-Type (none when content_type is empty).
  virtual ports::AsyncResult<void> send_local(uint16_t status, std::string_view content_type,
                                              std::string_view body,
                                              const core::http::HeaderList& extra) = 0;
  // True once any byte of the response went out: an error after that can only abort.
  virtual bool response_started() const = 0;

  // After a 101: bytes both ways until either side closes. Returns when the tunnel is done.
  virtual ports::Awaitable<void> tunnel(ports::UpstreamStream& upstream) = 0;

  // Deadlines (one watchdog per connection): the next waits of this exchange, downstream and on
  // `upstream` if given, are aborted once `deadline` passes; expired() tells it happened.
  virtual void arm_deadline(std::chrono::steady_clock::time_point deadline,
                            ports::UpstreamStream* upstream) = 0;
  virtual bool deadline_expired() const = 0;
};

}  // namespace vx::proxy
