#include "adapters/quic/quic_connection.h"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <algorithm>

#include "adapters/quic/h3_stream.h"
#include "adapters/quic/quic_listener.h"
#include "adapters/quic/random_bytes.h"
#include "ports/guarded_spawn.h"

namespace vx::adapters::quic {

using SteadyClock = std::chrono::steady_clock;

namespace {

// Flow control (invariant 1 of H3Stream bounds what is buffered to these windows): per
// stream, and for the whole connection; ngtcp2 may grow them up to the max_* under load.
constexpr uint64_t kStreamWindow = uint64_t{256} << 10;
constexpr uint64_t kMaxStreamWindow = uint64_t{1} << 20;
constexpr uint64_t kConnectionWindow = uint64_t{1} << 20;
constexpr uint64_t kMaxConnectionWindow = uint64_t{8} << 20;
// Requests in flight per connection (RFC 9000 MAX_STREAMS), as HTTP/2's 100.
constexpr uint64_t kMaxStreams = 100;
// Request streams that may wait for a QPACK insert at once (RFC 9204 §2.1.2); each holds its
// undecoded field section. Fewer than kMaxStreams, so the limit is one a client can break: the
// next blocked stream closes the connection with QPACK_DECOMPRESSION_FAILED.
constexpr size_t kMaxBlockedStreams = 16;
constexpr size_t kMaxPacketsPerFlush = 64;

SteadyClock::time_point time_of(ngtcp2_tstamp ts) {
  if (ts == UINT64_MAX) return SteadyClock::time_point::max();
  return SteadyClock::time_point(std::chrono::nanoseconds(ts));
}

QuicConnection& self_of(void* self) {
  return *static_cast<QuicConnection*>(self);
}

bool client_bidi(int64_t id) {
  return (id & 0x3) == 0;
}

}  // namespace

ngtcp2_tstamp QuicConnection::now_ts() {
  return static_cast<ngtcp2_tstamp>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
          .count());
}

QuicConnection::QuicConnection(QuicListener& listener, std::string client_ip, uint16_t client_port)
    : listener_(listener),
      client_ip_(std::move(client_ip)),
      client_port_(client_port),
      timer_(listener.executor()),
      done_signal_(listener.executor()) {}

QuicConnection::~QuicConnection() {
  for (const std::string& cid : cids_) {
    ngtcp2_cid c;
    ngtcp2_cid_init(&c, reinterpret_cast<const uint8_t*>(cid.data()), cid.size());
    listener_.unregister_cid(c);
  }
  streams_.clear();
  if (h3_) nghttp3_conn_del(h3_);
  if (conn_) ngtcp2_conn_del(conn_);
  if (tls_) gnutls_deinit(tls_);
}

proxy::WorkerContext& QuicConnection::worker() {
  return listener_.worker();
}
const core::config::Limits& QuicConnection::limits() const {
  return listener_.limits();
}
ports::Executor QuicConnection::executor() const {
  return listener_.executor();
}

ports::ConnectionFacts QuicConnection::facts() const {
  ports::ConnectionFacts facts;
  facts.client_ip = client_ip_;
  facts.client_port = client_port_;
  facts.local_ip = listener_.config().address.host;
  facts.local_port = listener_.config().address.port;
  facts.listener = listener_.config().name;
  facts.protocol = "HTTP/3";
  return facts;
}

ngtcp2_conn* QuicConnection::conn_of(ngtcp2_crypto_conn_ref* ref) {
  return static_cast<QuicConnection*>(ref->user_data)->conn_;
}

bool QuicConnection::accept(const ngtcp2_pkt_hd& hd, const ngtcp2_path& path,
                            const ngtcp2_cid* original_dcid) {
  ngtcp2_cid scid;
  listener_.make_cid(scid);

  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now_ts();
  settings.max_stream_window = kMaxStreamWindow;
  settings.max_window = kMaxConnectionWindow;
  settings.handshake_timeout =
      static_cast<ngtcp2_duration>(limits().header_timeout.count()) * NGTCP2_MILLISECONDS;
  if (original_dcid) settings.token = hd.token;

  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_stream_data_bidi_remote = kStreamWindow;
  params.initial_max_stream_data_uni = kStreamWindow;
  params.initial_max_data = kConnectionWindow;
  params.initial_max_streams_bidi = kMaxStreams;
  params.initial_max_streams_uni = 3;  // the peer's control and QPACK streams
  params.max_idle_timeout =
      static_cast<ngtcp2_duration>(limits().idle_timeout.count()) * NGTCP2_MILLISECONDS;
  params.active_connection_id_limit = 7;
  params.stateless_reset_token_present = 1;
  listener_.stateless_reset_token(params.stateless_reset_token, scid);
  if (original_dcid) {
    params.original_dcid = *original_dcid;
    params.retry_scid = hd.dcid;
    params.retry_scid_present = 1;
  } else {
    params.original_dcid = hd.dcid;
  }

  ngtcp2_callbacks cb{};
  cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  cb.recv_crypto_data = on_recv_crypto_data;
  cb.encrypt = ngtcp2_crypto_encrypt_cb;
  cb.decrypt = ngtcp2_crypto_decrypt_cb;
  cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb.update_key = ngtcp2_crypto_update_key_cb;
  cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb.handshake_completed = on_handshake_completed;
  cb.recv_stream_data = on_recv_stream_data;
  cb.acked_stream_data_offset = on_acked_stream_data_offset;
  cb.stream_open = [](ngtcp2_conn*, int64_t, void*) { return 0; };  // MAX_STREAMS is ours
  cb.stream_close = on_stream_close;
  cb.stream_reset = on_stream_reset;
  cb.stream_stop_sending = on_stream_stop_sending;
  cb.extend_max_stream_data = on_extend_max_stream_data;
  cb.rand = on_rand;
  cb.get_new_connection_id = on_get_new_connection_id;
  cb.remove_connection_id = on_remove_connection_id;

  if (ngtcp2_conn_server_new(&conn_, &hd.scid, &scid, &path, hd.version, &cb, &settings, &params,
                             nullptr, this) != 0) {
    conn_ = nullptr;
    return false;
  }
  tls_ = listener_.credentials().new_session();
  if (!tls_) return false;
  conn_ref_.get_conn = conn_of;
  conn_ref_.user_data = this;
  gnutls_session_set_ptr(tls_, &conn_ref_);
  ngtcp2_conn_set_tls_native_handle(conn_, tls_);
  for (const ngtcp2_cid* cid : {static_cast<const ngtcp2_cid*>(&scid), &hd.dcid}) {
    listener_.register_cid(*cid, this);
    cids_.emplace_back(reinterpret_cast<const char*>(cid->data), cid->datalen);
  }
  return true;
}

void QuicConnection::on_datagram(const ngtcp2_path& path, const uint8_t* data, size_t size) {
  if (over_) return;
  if (closing_) {
    // RFC 9000 §10.2.1: the closing endpoint repeats its CONNECTION_CLOSE; a draining one is
    // silent.
    if (!silent_ && !close_packet_.empty()) {
      listener_.send(path.remote, close_packet_.data(), close_packet_.size());
    }
    return;
  }
  ngtcp2_pkt_info info{};
  const int rv = ngtcp2_conn_read_pkt(conn_, &path, &info, data, size, now_ts());
  if (rv != 0) {
    fail(rv);
    return;
  }
  if (handshake_done_ && tls_) release_tls_after_handshake();
  flush();
}

void QuicConnection::release_tls_after_handshake() {
  ngtcp2_conn_set_tls_native_handle(conn_, nullptr);
  gnutls_deinit(tls_);
  tls_ = nullptr;
}

void QuicConnection::fail(int rv) {
  if (closing_ || over_) return;
  switch (rv) {
    case NGTCP2_ERR_DRAINING:  // the peer closed: stay silent for the draining period
      closing_ = silent_ = true;
      close_until_ = SteadyClock::now() + 3 * std::chrono::nanoseconds(ngtcp2_conn_get_pto(conn_));
      timer_.cancel();
      return;
    case NGTCP2_ERR_DROP_CONN:
    case NGTCP2_ERR_IDLE_CLOSE:
      over_ = true;
      timer_.cancel();
      return;
    case NGTCP2_ERR_CRYPTO:
      ngtcp2_connection_close_error_set_transport_error_tls_alert(
          &last_error_, ngtcp2_conn_get_tls_alert(conn_), nullptr, 0);
      break;
    case NGTCP2_ERR_CALLBACK_FAILURE:
      if (last_error_.error_code != 0) break;  // a callback said why
      [[fallthrough]];
    default:
      ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, rv, nullptr, 0);
  }
  close_with(last_error_);
}

void QuicConnection::close_with(const ngtcp2_connection_close_error& error) {
  if (closing_ || over_) return;
  closing_ = true;
  close_until_ = SteadyClock::now() + 3 * std::chrono::nanoseconds(ngtcp2_conn_get_pto(conn_));
  if (ngtcp2_conn_is_in_closing_period(conn_) || ngtcp2_conn_is_in_draining_period(conn_)) {
    silent_ = true;
  } else {
    close_packet_.resize(NGTCP2_MAX_UDP_PAYLOAD_SIZE);
    ngtcp2_path_storage_zero(&close_path_);
    ngtcp2_pkt_info info{};
    const auto n =
        ngtcp2_conn_write_connection_close(conn_, &close_path_.path, &info, close_packet_.data(),
                                           close_packet_.size(), &error, now_ts());
    if (n > 0) {
      close_packet_.resize(static_cast<size_t>(n));
      listener_.send(close_path_.path.remote, close_packet_.data(), close_packet_.size());
    } else {
      close_packet_.clear();
    }
  }
  for (auto& [id, slot] : streams_) slot.stream->abort();
  timer_.cancel();
}

void QuicConnection::send(const ngtcp2_path& path, const uint8_t* data, size_t size) {
  listener_.send(path.remote, data, size);
}

void QuicConnection::flush() {
  if (closing_ || over_ || !conn_) return;
  uint8_t packet[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
  const ngtcp2_tstamp ts = now_ts();
  for (size_t packets = 0; packets < kMaxPacketsPerFlush;) {
    int64_t stream_id = -1;
    int fin = 0;
    nghttp3_vec vec[16];
    nghttp3_ssize count = 0;
    if (h3_ && ngtcp2_conn_get_max_data_left(conn_) > 0) {
      count = nghttp3_conn_writev_stream(h3_, &stream_id, &fin, vec, std::size(vec));
      if (count < 0) {
        ngtcp2_connection_close_error_set_application_error(
            &last_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(count)), nullptr,
            0);
        close_with(last_error_);
        return;
      }
    }
    uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info info{};
    ngtcp2_ssize written = -1;
    const ngtcp2_ssize n = ngtcp2_conn_writev_stream(
        conn_, &ps.path, &info, packet, sizeof packet, &written, flags, stream_id,
        reinterpret_cast<const ngtcp2_vec*>(vec), static_cast<size_t>(count), ts);
    if (n < 0) {
      switch (n) {
        case NGTCP2_ERR_STREAM_DATA_BLOCKED:
          nghttp3_conn_block_stream(h3_, stream_id);
          continue;
        case NGTCP2_ERR_STREAM_SHUT_WR:
          nghttp3_conn_shutdown_stream_write(h3_, stream_id);
          continue;
        case NGTCP2_ERR_WRITE_MORE:
          if (nghttp3_conn_add_write_offset(h3_, stream_id, static_cast<size_t>(written)) != 0) {
            fail(NGTCP2_ERR_CALLBACK_FAILURE);
            return;
          }
          continue;
        default:
          fail(static_cast<int>(n));
          return;
      }
    }
    if (written >= 0 && stream_id >= 0 &&
        nghttp3_conn_add_write_offset(h3_, stream_id, static_cast<size_t>(written)) != 0) {
      fail(NGTCP2_ERR_CALLBACK_FAILURE);
      return;
    }
    if (n == 0) break;  // nothing more now (or pacing: the expiry timer resumes)
    send(ps.path, packet, static_cast<size_t>(n));
    ++packets;
    if (packets == kMaxPacketsPerFlush) flush_wanted_ = true;  // yield, go on next turn
  }
  ngtcp2_conn_update_pkt_tx_time(conn_, ts);
}

ports::Awaitable<void> QuicConnection::run() {
  while (!over_) {
    auto now = SteadyClock::now();
    auto until = closing_ ? close_until_ : time_of(ngtcp2_conn_get_expiry(conn_));
    next_check_ = now + std::chrono::seconds(1);
    for (auto& [id, slot] : streams_)
      next_check_ = std::min(next_check_, slot.stream->expire_if_due(now));
    if (!closing_) until = std::min(until, next_check_);
    if (!flush_wanted_ && until > now) {
      timer_.expires_at(until);
      co_await timer_.async_wait(ports::kDeferTuple);
    }
    flush_wanted_ = false;
    if (over_) break;
    now = SteadyClock::now();
    if (closing_) {
      if (now >= close_until_) over_ = true;
      continue;
    }
    const ngtcp2_tstamp ts = now_ts();
    if (ngtcp2_conn_get_expiry(conn_) <= ts) {
      const int rv = ngtcp2_conn_handle_expiry(conn_, ts);
      if (rv != 0) {
        fail(rv);
        continue;
      }
    }
    flush();
  }
  // Invariant 2: every stream coroutine ends before the connection object goes.
  for (auto& [id, slot] : streams_) slot.stream->abort();
  while (live_streams_ > 0) {
    done_signal_.expires_at(SteadyClock::time_point::max());
    co_await done_signal_.async_wait(ports::kDeferTuple);
  }
}

void QuicConnection::drain() {
  if (draining_ || closing_ || over_) return;
  draining_ = true;
  if (h3_ && live_streams_ > 0) {
    nghttp3_conn_shutdown(h3_);  // GOAWAY: the requests in flight finish, no new one starts
    wake();
    return;
  }
  ngtcp2_connection_close_error error;
  ngtcp2_connection_close_error_set_application_error(&error, NGHTTP3_H3_NO_ERROR, nullptr, 0);
  close_with(error);
}

void QuicConnection::start_h3() {
  nghttp3_callbacks cb{};
  cb.acked_stream_data = h3_acked_stream_data;
  cb.stream_close = h3_stream_close;
  cb.recv_data = h3_recv_data;
  cb.deferred_consume = h3_deferred_consume;
  cb.begin_headers = h3_begin_headers;
  cb.recv_header = h3_recv_field<false>;
  cb.end_headers = h3_end_headers;
  cb.recv_trailer = h3_recv_field<true>;
  cb.end_stream = h3_end_stream;
  cb.stop_sending = h3_stop_sending;
  cb.reset_stream = h3_reset_stream;
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.max_field_section_size = limits().max_header_bytes;
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = kMaxBlockedStreams;
  if (nghttp3_conn_server_new(&h3_, &cb, &settings, nghttp3_mem_default(), this) != 0) {
    h3_ = nullptr;
    return;
  }
  nghttp3_conn_set_max_client_streams_bidi(h3_, kMaxStreams);
  int64_t control = -1, encoder = -1, decoder = -1;
  if (ngtcp2_conn_open_uni_stream(conn_, &control, nullptr) != 0 ||
      nghttp3_conn_bind_control_stream(h3_, control) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &encoder, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &decoder, nullptr) != 0 ||
      nghttp3_conn_bind_qpack_streams(h3_, encoder, decoder) != 0) {
    nghttp3_conn_del(h3_);
    h3_ = nullptr;
  }
}

H3Stream* QuicConnection::find(int64_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.stream.get();
}

void QuicConnection::consume(int64_t id, uint64_t bytes) {
  if (bytes == 0 || closing_ || over_) return;
  ngtcp2_conn_extend_max_stream_offset(conn_, id, bytes);
  ngtcp2_conn_extend_max_offset(conn_, bytes);
  wake();
}

void QuicConnection::reset_stream(int64_t id, uint64_t code) {
  if (closing_ || over_) return;
  ngtcp2_conn_shutdown_stream(conn_, id, code);
  wake();
}

void QuicConnection::start_stream(int64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.running) return;
  it->second.running = true;
  ++live_streams_;
  H3Stream* stream = it->second.stream.get();
  ports::spawn_guarded(executor(), stream->run(), ports::TaskKind::Stream, [this, id] {
    --live_streams_;
    auto found = streams_.find(id);
    if (found != streams_.end()) {
      found->second.running = false;
      if (found->second.quic_closed) finish_stream(id);
    }
    if (draining_ && live_streams_ == 0 && !closing_) {
      ngtcp2_connection_close_error error;
      ngtcp2_connection_close_error_set_application_error(&error, NGHTTP3_H3_NO_ERROR, nullptr, 0);
      flush();  // what the last stream queued goes out before the CONNECTION_CLOSE
      close_with(error);
    }
    wake();
    done_signal_.cancel();
  });
}

void QuicConnection::finish_stream(int64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  const uint64_t unread = it->second.stream->unread_bytes();
  streams_.erase(it);
  if (closing_ || over_) return;
  ngtcp2_conn_extend_max_offset(conn_, unread);  // the stream is gone; its bytes still count
  ngtcp2_conn_extend_max_streams_bidi(conn_, 1);
  wake();
}

// ngtcp2 callbacks. A nonzero return ends the connection (fail()).

int QuicConnection::on_handshake_completed(ngtcp2_conn*, void* self) {
  auto& c = self_of(self);
  c.handshake_done_ = true;
  c.listener_.handshake_done();
  c.start_h3();
  return c.h3_ ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int QuicConnection::on_recv_crypto_data(ngtcp2_conn* conn, ngtcp2_crypto_level level,
                                        uint64_t offset, const uint8_t* data, size_t size,
                                        void* self) {
  auto& c = self_of(self);
  if (!c.tls_) {  // invariant 4: a post-handshake message, and we asked for none
    constexpr uint8_t kUnexpectedMessage = 10;  // RFC 8446 §6 alert
    ngtcp2_connection_close_error_set_transport_error(
        &c.last_error_, NGTCP2_CRYPTO_ERROR | kUnexpectedMessage, nullptr, 0);
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  return ngtcp2_crypto_recv_crypto_data_cb(conn, level, offset, data, size, self);
}

int QuicConnection::on_recv_stream_data(ngtcp2_conn*, uint32_t flags, int64_t id, uint64_t,
                                        const uint8_t* data, size_t size, void* self, void*) {
  auto& c = self_of(self);
  if (!c.h3_) return 0;
  const nghttp3_ssize consumed =
      nghttp3_conn_read_stream(c.h3_, id, data, size, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
  if (consumed < 0) {
    ngtcp2_connection_close_error_set_application_error(
        &c.last_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(consumed)), nullptr,
        0);
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  // Framing bytes are credited now; body bytes once the pipeline took them (H3Stream).
  ngtcp2_conn_extend_max_stream_offset(c.conn_, id, static_cast<uint64_t>(consumed));
  ngtcp2_conn_extend_max_offset(c.conn_, static_cast<uint64_t>(consumed));
  return 0;
}

int QuicConnection::on_acked_stream_data_offset(ngtcp2_conn*, int64_t id, uint64_t, uint64_t size,
                                                void* self, void*) {
  auto& c = self_of(self);
  if (c.h3_ && nghttp3_conn_add_ack_offset(c.h3_, id, size) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int QuicConnection::on_stream_close(ngtcp2_conn*, uint32_t flags, int64_t id, uint64_t code,
                                    void* self, void*) {
  auto& c = self_of(self);
  if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET)) code = NGHTTP3_H3_NO_ERROR;
  if (c.h3_) {
    const int rv = nghttp3_conn_close_stream(c.h3_, id, code);
    if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND) {
      ngtcp2_connection_close_error_set_application_error(
          &c.last_error_, nghttp3_err_infer_quic_app_error_code(rv), nullptr, 0);
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
  }
  if (!client_bidi(id)) return 0;
  auto it = c.streams_.find(id);
  if (it == c.streams_.end()) {
    ngtcp2_conn_extend_max_streams_bidi(c.conn_, 1);  // never got a request head
    return 0;
  }
  it->second.quic_closed = true;
  it->second.stream->on_closed();
  if (!it->second.running) c.finish_stream(id);
  return 0;
}

int QuicConnection::on_stream_reset(ngtcp2_conn*, int64_t id, uint64_t, uint64_t, void* self,
                                    void*) {
  auto& c = self_of(self);
  if (c.h3_ && nghttp3_conn_shutdown_stream_read(c.h3_, id) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  if (H3Stream* s = c.find(id)) s->on_closed();  // the request will not complete
  return 0;
}

int QuicConnection::on_stream_stop_sending(ngtcp2_conn*, int64_t id, uint64_t, void* self, void*) {
  auto& c = self_of(self);
  if (c.h3_ && nghttp3_conn_shutdown_stream_read(c.h3_, id) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  if (H3Stream* s = c.find(id)) s->on_closed();  // nobody reads the response any more
  return 0;
}

int QuicConnection::on_extend_max_stream_data(ngtcp2_conn*, int64_t id, uint64_t, void* self,
                                              void*) {
  auto& c = self_of(self);
  if (c.h3_ && nghttp3_conn_unblock_stream(c.h3_, id) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

int QuicConnection::on_get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, uint8_t* token, size_t,
                                             void* self) {
  auto& c = self_of(self);
  c.listener_.make_cid(*cid);  // the length asked for is our first ID's, kCidBytes
  c.listener_.stateless_reset_token(token, *cid);
  c.listener_.register_cid(*cid, &c);
  c.cids_.emplace_back(reinterpret_cast<const char*>(cid->data), cid->datalen);
  return 0;
}

int QuicConnection::on_remove_connection_id(ngtcp2_conn*, const ngtcp2_cid* cid, void* self) {
  auto& c = self_of(self);
  c.listener_.unregister_cid(*cid);
  const std::string key(reinterpret_cast<const char*>(cid->data), cid->datalen);
  std::erase(c.cids_, key);
  return 0;
}

void QuicConnection::on_rand(uint8_t* dest, size_t size, const ngtcp2_rand_ctx*) {
  fill_random(dest, size);
}

// nghttp3 callbacks. A nonzero return ends the connection with H3_INTERNAL_ERROR or the code
// nghttp3 infers.

int QuicConnection::h3_acked_stream_data(nghttp3_conn*, int64_t, uint64_t size, void*,
                                         void* stream) {
  if (stream) static_cast<H3Stream*>(stream)->on_acked(size);
  return 0;
}

int QuicConnection::h3_stream_close(nghttp3_conn*, int64_t, uint64_t, void*, void* stream) {
  if (stream) static_cast<H3Stream*>(stream)->on_closed();
  return 0;
}

int QuicConnection::h3_recv_data(nghttp3_conn*, int64_t, const uint8_t* data, size_t size, void*,
                                 void* stream) {
  if (stream) {
    static_cast<H3Stream*>(stream)->on_data(
        std::string_view(reinterpret_cast<const char*>(data), size));
  }
  return 0;
}

int QuicConnection::h3_deferred_consume(nghttp3_conn*, int64_t id, size_t consumed, void* self,
                                        void*) {
  auto& c = self_of(self);
  ngtcp2_conn_extend_max_stream_offset(c.conn_, id, consumed);
  ngtcp2_conn_extend_max_offset(c.conn_, consumed);
  return 0;
}

int QuicConnection::h3_begin_headers(nghttp3_conn* h3, int64_t id, void* self, void* stream) {
  auto& c = self_of(self);
  if (stream) return 0;  // already known (trailers take their own callbacks)
  if (c.draining_) {
    // After GOAWAY: RFC 9114 §5.2, the client may retry it elsewhere.
    ngtcp2_conn_shutdown_stream(c.conn_, id, NGHTTP3_H3_REQUEST_REJECTED);
    return 0;
  }
  auto& slot = c.streams_[id];
  slot.stream = std::make_unique<H3Stream>(c, id);
  nghttp3_conn_set_stream_user_data(h3, id, slot.stream.get());
  return 0;
}

template <bool kTrailer>
int QuicConnection::h3_recv_field(nghttp3_conn*, int64_t, int32_t, nghttp3_rcbuf* name,
                                  nghttp3_rcbuf* value, uint8_t, void*, void* stream) {
  if (!stream) return 0;
  const nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
  const nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
  static_cast<H3Stream*>(stream)->on_header(
      std::string_view(reinterpret_cast<const char*>(n.base), n.len),
      std::string_view(reinterpret_cast<const char*>(v.base), v.len), kTrailer);
  return 0;
}

int QuicConnection::h3_end_headers(nghttp3_conn*, int64_t id, int fin, void* self, void* stream) {
  if (!stream) return 0;
  static_cast<H3Stream*>(stream)->on_headers_end(fin != 0);
  self_of(self).start_stream(id);
  return 0;
}

int QuicConnection::h3_end_stream(nghttp3_conn*, int64_t, void*, void* stream) {
  if (stream) static_cast<H3Stream*>(stream)->on_end_stream();
  return 0;
}

int QuicConnection::h3_stop_sending(nghttp3_conn*, int64_t id, uint64_t code, void* self, void*) {
  ngtcp2_conn_shutdown_stream_read(self_of(self).conn_, id, code);
  return 0;
}

int QuicConnection::h3_reset_stream(nghttp3_conn*, int64_t id, uint64_t code, void* self, void*) {
  ngtcp2_conn_shutdown_stream_write(self_of(self).conn_, id, code);
  return 0;
}

nghttp3_ssize QuicConnection::h3_read_data(nghttp3_conn*, int64_t, nghttp3_vec* vec, size_t veccnt,
                                           uint32_t* flags, void*, void* stream) {
  if (!stream) {
    *flags |= NGHTTP3_DATA_FLAG_EOF;
    return 0;
  }
  return static_cast<H3Stream*>(stream)->read_data(vec, veccnt, flags);
}

}  // namespace vx::adapters::quic
