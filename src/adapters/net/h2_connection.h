// H2Downstream / BasicH2Connection: one downstream HTTP/2 connection (h2 over TLS by ALPN, or
// h2c on a plain listener). A reader feeds the sans-I/O H2Session, a writer flushes its frames,
// and every request stream runs as its own coroutine through the same pipeline as HTTP/1.1
// (proxy::serve_stream with an H2Stream). H2Downstream is the protocol part; the template adds
// the byte stream (plain TCP or TLS). One per connection, on one worker's thread.
//
// Invariants:
//  1. The connection object outlives every stream coroutine: run() returns only after the
//     last stream finished.
//  2. A connection with no open stream for idle_timeout is closed with GOAWAY NO_ERROR; one
//     whose writes stall for idle_timeout (a client that stopped reading) is closed.
//  3. A peer that breaks the protocol or floods gets GOAWAY with the matching error code and
//     the connection ends; other connections never notice.
//  4. Waiting for the peer, the reader holds no read buffer (it waits for readiness and borrows
//     one from the worker's pool to read); a connection with no open stream for a watchdog tick
//     gives back its finished streams and its write buffer (issue 19).
//  5. One allowed to park (allow_parking) that stays so for IdleConnections::kParkAfter, with
//     nothing to send and nothing being written, *parks*: run() ends its coroutines and returns
//     true, and the object (the nghttp2 session with its HPACK state, the stream) waits without
//     them; run() again serves it on (issue 19).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "adapters/codec/h2/h2_session.h"
#include "adapters/net/h2_stream.h"
#include "adapters/net/idle_connections.h"
#include "adapters/net/socket_facts.h"
#include "adapters/net/stream.h"
#include "core/config/config.h"
#include "proxy/worker_context.h"

namespace vx::adapters::net {

class H2Downstream : public DownstreamConnection, private h2::H2Events {
 public:
  // `facts`: the connection's socket and listener, as filters see them.
  H2Downstream(ports::Executor executor, proxy::WorkerContext& worker,
               const core::config::Limits& limits, bool tls, std::string client_ip,
               SocketFacts facts);
  ~H2Downstream() override;

  // h2c Upgrade (RFC 7540 §3.2): `request` (answered 101 already) becomes stream 1;
  // `settings` is its HTTP2-Settings header (base64url). False: refuse the connection.
  bool accept_upgrade(const core::http::RequestHead& request, std::string_view settings);
  void drain() override;
  // Invariant 5. Only where the listener keeps parked connections, and idle timeouts that do.
  void allow_parking() { may_park_ = IdleConnections::parkable(limits_.idle_timeout); }
  // After run() parked: when the idle timeout ends the connection.
  std::chrono::steady_clock::time_point parked_deadline() const {
    return last_activity_ + limits_.idle_timeout;
  }
  // A parked connection's end (drain, idle timeout): GOAWAY NO_ERROR if the socket takes it
  // right away, then the socket closes.
  void close_parked();

  // For H2Stream.
  h2::H2Session& session() { return session_; }
  // Every response carries `Alt-Svc: value` (SPEC.md §4); the view outlives the connection.
  void set_alt_svc(std::string_view value) { alt_svc_ = value; }
  std::string_view alt_svc() const { return alt_svc_; }
  proxy::WorkerContext& worker() { return worker_; }
  const core::config::Limits& limits() const { return limits_; }
  bool tls() const { return tls_; }
  std::string_view client_ip() const { return client_ip_; }
  const SocketFacts& facts() const { return facts_; }
  ports::Executor executor() const { return executor_; }
  void wake_writer() { write_signal_.cancel(); }
  // The stream is woken (notify) after the writer's next produce(): its last frames are then
  // serialised, so an RST_STREAM submitted after that cannot overtake them.
  void notify_after_produce(int32_t stream_id) { produce_waiters_.push_back(stream_id); }
  // A stream's deadline moved to `deadline`: the watchdog wakes for it if it would sleep past.
  void watch_deadline(std::chrono::steady_clock::time_point deadline) {
    if (deadline < next_check_) watchdog_timer_.cancel();
  }

 protected:
  // The byte stream's part: read, write, close. run() drives the protocol over them.
  virtual ports::Awaitable<std::pair<boost::system::error_code, size_t>> read_some(
      std::span<char> into) = 0;
  // What a read would complete with now (nullopt: nothing yet), and the wait until it has
  // something, which holds no buffer (invariant 4).
  virtual std::optional<std::tuple<boost::system::error_code, size_t>> read_now(
      std::span<char> into) = 0;
  virtual ports::Awaitable<boost::system::error_code> wait_readable() = 0;
  virtual ports::Awaitable<boost::system::error_code> write_all(std::string_view bytes) = 0;
  // Writes what the socket takes without waiting (all, or a part when it is full).
  virtual void write_now(std::string_view bytes) = 0;
  virtual void cancel_io() = 0;
  virtual void shutdown_send() = 0;
  virtual void close_io() = 0;

 public:
  // Serves the connection; `initial` = bytes already read (the h2c preface). Never throws.
  // True: it parked (invariant 5); run({}) serves it again when the peer sends bytes.
  ports::Awaitable<bool> run(std::string initial);

 private:
  ports::Awaitable<void> reader(std::string initial);
  ports::Awaitable<void> writer();
  ports::Awaitable<void> watchdog();
  void feed(std::string_view bytes);
  void release_idle_memory();  // invariant 4
  bool parkable() const;       // invariant 5
  void start_stream(int32_t id, h2::HeaderBlock& block, bool end_stream);
  H2Stream* find(int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second;
  }

  // h2::H2Events
  void on_headers(int32_t stream_id, h2::HeaderBlock& block, bool end_stream) override;
  void on_data(int32_t stream_id, std::string_view data) override;
  void on_end_stream(int32_t stream_id) override;
  void on_stream_close(int32_t stream_id, uint32_t error_code) override;
  long on_send_body(int32_t stream_id, uint8_t* into, size_t max, bool& eof,
                    const core::http::HeaderList*& trailers) override;

  ports::Executor executor_;
  proxy::WorkerContext& worker_;
  const core::config::Limits& limits_;
  bool tls_;
  std::string_view alt_svc_;
  std::string client_ip_;
  SocketFacts facts_;
  h2::H2Session session_;
  std::unordered_map<int32_t, H2Stream*> streams_;
  std::vector<std::unique_ptr<H2Stream>> spare_streams_;  // finished, kept for the next ones
  std::vector<int32_t> produce_waiters_;                  // ids, not pointers: streams go
  size_t live_streams_ = 0;  // stream coroutines still running (invariant 1)
  Timer write_signal_;
  Timer done_signal_;
  // The streams' deadlines are kept by the connection's one watchdog timer (not a timer and
  // a racing coroutine per stream): it wakes at the earliest deadline or the next tick.
  Timer watchdog_timer_;
  std::chrono::steady_clock::time_point next_check_ = std::chrono::steady_clock::time_point::max();
  std::string out_;
  bool draining_ = false;
  bool reader_done_ = false;
  bool preface_seen_ = false;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point write_started_{};
  bool writing_ = false;
  bool may_park_ = false;
  bool parking_ = false;  // the watchdog ended run()'s coroutines to park
  std::chrono::steady_clock::time_point parked_activity_{};  // last_activity_ when it decided
  bool closed_parked_ = false;
};

template <typename Stream>
class BasicH2Connection final : public H2Downstream {
 public:
  BasicH2Connection(Stream stream, proxy::WorkerContext& worker, const core::config::Limits& limits,
                    std::string_view listener, bool tls);
  Socket& tcp() { return tcp_of(stream_); }

 private:
  ports::Awaitable<std::pair<boost::system::error_code, size_t>> read_some(
      std::span<char> into) override;
  std::optional<std::tuple<boost::system::error_code, size_t>> read_now(
      std::span<char> into) override;
  ports::Awaitable<boost::system::error_code> wait_readable() override;
  ports::Awaitable<boost::system::error_code> write_all(std::string_view bytes) override;
  void write_now(std::string_view bytes) override;
  void cancel_io() override;
  void shutdown_send() override;
  void close_io() override;

  Stream stream_;
};

using H2Connection = BasicH2Connection<Socket>;
using TlsH2Connection = BasicH2Connection<TlsStream>;

}  // namespace vx::adapters::net
