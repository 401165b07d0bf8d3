// UpstreamPool: connections to endpoints, one pool per worker (not thread-safe), and the
// UpstreamStream each request exchanges its messages on. Implemented per upstream protocol in
// adapters/upstream/.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "core/config/config.h"
#include "core/http/message_head.h"
#include "ports/awaitable_result.h"

namespace vx::ports {

// One piece of a body stream: the bytes, and whether the message ends with them.
struct BodyChunk {
  std::span<const std::string_view> pieces;  // views valid until the next call on the stream
  bool last = false;
  const core::http::HeaderList* trailers = nullptr;  // with last, when the message had trailers
};

// One request/response exchange on an upstream connection. Call order: send_head, send_body
// (until last, unless the request has no body), recv_head (repeatedly while it yields 1xx),
// recv_body (until last). Every call but send_head may suspend (the try_ forms never do);
// none throws.
class UpstreamStream {
 public:
  virtual ~UpstreamStream() = default;

  // Serialises the head (framing from head.framing) and sends it, never suspending: with a
  // body it goes out with the first body bytes (one write for a small request); without one,
  // what the socket takes now goes now and recv_head sends any rest. The head's views may die as
  // soon as this returns. Errors are Upstream* ones (e.g. an HTTP/2 connection that cannot open
  // another stream).
  virtual core::Result<void, core::http::Error> send_head(const core::http::RequestHead& head) = 0;
  virtual AsyncResult<void> send_body(const BodyChunk& chunk) = 0;
  // The next response head; a 1xx interim head comes back as such (status < 200) and the final
  // head follows on the next call. The head belongs to the stream; the pipeline edits it in place
  // (hop-by-hop fields, filters) and its views live until the next call on the stream.
  virtual AsyncResult<core::http::ResponseHead*> recv_head() = 0;
  // recv_head() without a coroutine frame when it need not wait: the head when the bytes the
  // connection has now complete it. nullopt: await recv_head().
  virtual std::optional<core::Result<core::http::ResponseHead*, core::http::Error>>
  try_recv_head() {
    return std::nullopt;
  }
  virtual AsyncResult<BodyChunk> recv_body() = 0;
  // recv_body() without a coroutine frame when it need not wait: the next piece when its bytes
  // are buffered already (a small response arrives with its head). nullopt: await recv_body().
  virtual std::optional<core::Result<BodyChunk, core::http::Error>> try_recv_body() {
    return std::nullopt;
  }

  // For Upgrade tunnels after a 101: bytes read past the 101 head, then raw socket I/O.
  virtual std::string_view take_leftover() = 0;
  virtual Awaitable<std::pair<boost::system::error_code, size_t>> read_raw(
      std::span<char> into) = 0;
  virtual Awaitable<boost::system::error_code> write_raw(std::string_view bytes) = 0;

  // The connection came from the idle pool (a reset before any response byte may then be a
  // keep-alive race, safe to retry once for an idempotent request: Pingora's ReusedOnly).
  virtual bool reused() const = 0;
  // Aborts whatever the stream is waiting for (the connection's watchdog calls this).
  virtual void cancel() = 0;
};

// A leased stream; returns the connection to its pool (when the exchange left it reusable) or
// closes it on destruction.
class UpstreamLease {
 public:
  UpstreamLease() = default;
  explicit UpstreamLease(UpstreamStream* stream, void (*release)(UpstreamStream*, bool))
      : stream_(stream), release_(release) {}
  UpstreamLease(UpstreamLease&& o) noexcept : stream_(o.stream_), release_(o.release_) {
    o.stream_ = nullptr;
  }
  UpstreamLease& operator=(UpstreamLease&& o) noexcept {
    if (this != &o) {
      reset(false);
      stream_ = o.stream_;
      release_ = o.release_;
      o.stream_ = nullptr;
    }
    return *this;
  }
  ~UpstreamLease() { reset(false); }

  UpstreamStream* operator->() const { return stream_; }
  UpstreamStream& operator*() const { return *stream_; }
  explicit operator bool() const { return stream_ != nullptr; }
  // reusable: the exchange ended cleanly and the connection may serve another request.
  void reset(bool reusable) {
    if (stream_) release_(stream_, reusable);
    stream_ = nullptr;
  }

 private:
  UpstreamStream* stream_ = nullptr;
  void (*release_)(UpstreamStream*, bool) = nullptr;
};

// A cluster's client TLS settings (trust store, verification, ALPN) as the upstream adapter
// compiled them at config load: opaque to the pipeline. Immutable, shared by all workers; a
// connection keeps the one it was made with alive past a reload.
class UpstreamTlsContext : public std::enable_shared_from_this<UpstreamTlsContext> {
 public:
  virtual ~UpstreamTlsContext() = default;
};

// Builds a cluster's UpstreamTlsContext (control plane: reads the CA file); null when the
// cluster has no tls block. An error names the problem (e.g. an unreadable tls.ca).
using UpstreamTlsFactory = core::Result<std::shared_ptr<const UpstreamTlsContext>, std::string> (*)(
    const core::config::Cluster& cluster);

struct UpstreamTarget {
  uint64_t endpoint_id = 0;  // stable per endpoint address, across reloads (pool bookkeeping)
  std::span<const boost::asio::ip::tcp::endpoint> addresses;
  std::chrono::milliseconds connect_timeout{1000};
  uint32_t max_idle = 128;
  std::chrono::milliseconds idle_timeout{30000};
  core::config::UpstreamProtocol protocol = core::config::UpstreamProtocol::Http1;
  const UpstreamTlsContext* tls = nullptr;  // set: TLS to the endpoint (lives with the runtime)
  std::string_view server_name;             // TLS SNI and certificate name (tls set)
};

class UpstreamPool {
 public:
  virtual ~UpstreamPool() = default;
  // An idle pooled connection (checked alive) or a new one within connect_timeout.
  // fresh_only: skip the idle pool (the retry after a reused connection failed).
  virtual AsyncResult<UpstreamLease> acquire(const UpstreamTarget& target, bool fresh_only) = 0;
  // An idle pooled connection (checked alive) if there is one, without suspending: the
  // keep-alive case then costs no coroutine frame. Empty otherwise (then acquire).
  virtual UpstreamLease take_idle(const UpstreamTarget& target) = 0;
};

}  // namespace vx::ports
