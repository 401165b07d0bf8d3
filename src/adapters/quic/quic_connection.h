// QuicConnection: one HTTP/3 connection: the QUIC state (ngtcp2_conn), its TLS session
// (GnuTLS through ngtcp2_crypto_gnutls), the HTTP/3 session on top (nghttp3_conn, made once the
// handshake completes) and its request streams (H3Stream). The listener hands it the datagrams
// whose connection ID it owns; it sends through the listener's socket. Worker thread only.
//
// Invariants:
//  1. No ngtcp2/nghttp3 error leaves this class: each one closes the stream or the connection
//     with the matching error code (CONNECTION_CLOSE), and run() then ends.
//  2. The object outlives every stream coroutine: run() returns only after the last one ended.
//  3. A closing connection answers for 3 PTO with its CONNECTION_CLOSE, a draining one stays
//     silent as long (RFC 9000 §10.2); then run() ends and the listener forgets its IDs.
//  4. The TLS session lives only as long as the handshake (issue 19): once it completed,
//     nothing of QUIC needs it again (1-RTT keys and key updates live in ngtcp2, no session
//     tickets are issued), so it is freed, and CRYPTO data the client sends afterwards, which
//     RFC 9001 §4.1.3/§6 leaves no legitimate use for on a server that asks for nothing, closes
//     the connection with CRYPTO_ERROR(unexpected_message).
#pragma once

#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "adapters/net/stream.h"
#include "core/config/config.h"
#include "ports/awaitable_result.h"
#include "proxy/worker_context.h"

namespace vx::adapters::quic {

class H3Stream;
class QuicListener;

class QuicConnection {
 public:
  // Nanoseconds of the steady clock: ngtcp2's timestamps.
  static ngtcp2_tstamp now_ts();

  QuicConnection(QuicListener& listener, std::string client_ip, uint16_t client_port);
  ~QuicConnection();
  QuicConnection(const QuicConnection&) = delete;
  QuicConnection& operator=(const QuicConnection&) = delete;

  // Sets up the QUIC server state for the client's first Initial `hd` on `path`;
  // `original_dcid` is set when the Initial carried a valid Retry token (then hd.dcid is the
  // Retry's SCID). False: drop the packet.
  bool accept(const ngtcp2_pkt_hd& hd, const ngtcp2_path& path, const ngtcp2_cid* original_dcid);
  // One datagram for this connection.
  void on_datagram(const ngtcp2_path& path, const uint8_t* data, size_t size);
  // Timers, flushes and the connection's end; returns once it is over (invariants 2, 3).
  ports::Awaitable<void> run();
  // Finish the requests in flight, accept no new one (GOAWAY), then close.
  void drain();
  // Something to send (a stream queued data or credit): flush soon.
  void wake() {
    flush_wanted_ = true;
    timer_.cancel();
  }
  bool handshake_done() const { return handshake_done_; }

  // For H3Stream.
  nghttp3_conn* h3() { return h3_; }
  ngtcp2_conn* quic() { return conn_; }
  proxy::WorkerContext& worker();
  const core::config::Limits& limits() const;
  ports::Executor executor() const;
  std::string_view client_ip() const { return client_ip_; }
  ports::ConnectionFacts facts() const;
  // Credits `bytes` of stream `id`'s data back to the peer (the pipeline consumed them).
  void consume(int64_t id, uint64_t bytes);
  // Resets both directions of stream `id` with H3 error `code`.
  void reset_stream(int64_t id, uint64_t code);
  void watch_deadline(std::chrono::steady_clock::time_point deadline) {
    if (deadline < next_check_) timer_.cancel();
  }

 private:
  friend class H3Stream;  // its data reader is h3_read_data
  void flush();
  // Closes the connection for ngtcp2 result `rv` (invariant 1).
  void fail(int rv);
  void close_with(const ngtcp2_connection_close_error& error);
  void start_h3();
  void start_stream(int64_t id);
  void finish_stream(int64_t id);
  H3Stream* find(int64_t id);
  void send(const ngtcp2_path& path, const uint8_t* data, size_t size);
  // Invariant 4; called outside ngtcp2's callbacks (the session may be on the stack in them).
  void release_tls_after_handshake();

  // ngtcp2 callbacks.
  static int on_handshake_completed(ngtcp2_conn*, void* self);
  static int on_recv_crypto_data(ngtcp2_conn*, ngtcp2_crypto_level level, uint64_t offset,
                                 const uint8_t* data, size_t size, void* self);
  static int on_recv_stream_data(ngtcp2_conn*, uint32_t flags, int64_t id, uint64_t offset,
                                 const uint8_t* data, size_t size, void* self, void* stream);
  static int on_acked_stream_data_offset(ngtcp2_conn*, int64_t id, uint64_t offset, uint64_t size,
                                         void* self, void* stream);
  static int on_stream_close(ngtcp2_conn*, uint32_t flags, int64_t id, uint64_t code, void* self,
                             void* stream);
  static int on_stream_reset(ngtcp2_conn*, int64_t id, uint64_t final_size, uint64_t code,
                             void* self, void* stream);
  static int on_stream_stop_sending(ngtcp2_conn*, int64_t id, uint64_t code, void* self,
                                    void* stream);
  static int on_extend_max_stream_data(ngtcp2_conn*, int64_t id, uint64_t max_data, void* self,
                                       void* stream);
  static int on_get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, uint8_t* token, size_t size,
                                      void* self);
  static int on_remove_connection_id(ngtcp2_conn*, const ngtcp2_cid* cid, void* self);
  static void on_rand(uint8_t* dest, size_t size, const ngtcp2_rand_ctx*);
  static ngtcp2_conn* conn_of(ngtcp2_crypto_conn_ref* ref);

  // nghttp3 callbacks.
  static int h3_acked_stream_data(nghttp3_conn*, int64_t id, uint64_t size, void* self,
                                  void* stream);
  static int h3_stream_close(nghttp3_conn*, int64_t id, uint64_t code, void* self, void* stream);
  static int h3_recv_data(nghttp3_conn*, int64_t id, const uint8_t* data, size_t size, void* self,
                          void* stream);
  static int h3_deferred_consume(nghttp3_conn*, int64_t id, size_t consumed, void* self,
                                 void* stream);
  static int h3_begin_headers(nghttp3_conn*, int64_t id, void* self, void* stream);
  // One field of the request head (kTrailer false) or of its trailers.
  template <bool kTrailer>
  static int h3_recv_field(nghttp3_conn*, int64_t id, int32_t token, nghttp3_rcbuf* name,
                           nghttp3_rcbuf* value, uint8_t flags, void* self, void* stream);
  static int h3_end_headers(nghttp3_conn*, int64_t id, int fin, void* self, void* stream);
  static int h3_end_stream(nghttp3_conn*, int64_t id, void* self, void* stream);
  static int h3_stop_sending(nghttp3_conn*, int64_t id, uint64_t code, void* self, void* stream);
  static int h3_reset_stream(nghttp3_conn*, int64_t id, uint64_t code, void* self, void* stream);
  static nghttp3_ssize h3_read_data(nghttp3_conn*, int64_t id, nghttp3_vec* vec, size_t veccnt,
                                    uint32_t* flags, void* self, void* stream);

  QuicListener& listener_;
  std::string client_ip_;
  uint16_t client_port_;
  ngtcp2_conn* conn_ = nullptr;
  nghttp3_conn* h3_ = nullptr;
  gnutls_session_t tls_ = nullptr;
  ngtcp2_crypto_conn_ref conn_ref_{};
  std::vector<std::string> cids_;  // connection IDs registered with the listener
  ngtcp2_connection_close_error last_error_{};

  struct StreamSlot {
    std::unique_ptr<H3Stream> stream;
    bool running = false;  // its coroutine has not ended
    bool quic_closed = false;
  };
  std::unordered_map<int64_t, StreamSlot> streams_;
  size_t live_streams_ = 0;

  net::Timer timer_;
  net::Timer done_signal_;
  std::chrono::steady_clock::time_point next_check_ = std::chrono::steady_clock::time_point::max();
  bool flush_wanted_ = false;
  bool handshake_done_ = false;
  bool draining_ = false;  // GOAWAY sent: no new request
  bool closing_ = false;   // CONNECTION_CLOSE sent (or received): the end period runs
  bool silent_ = false;    // draining period: send nothing
  bool over_ = false;      // run() may end
  std::chrono::steady_clock::time_point close_until_{};
  std::vector<uint8_t> close_packet_;
  ngtcp2_path_storage close_path_{};
};

}  // namespace vx::adapters::quic
