// H2Session: a sans-I/O HTTP/2 endpoint over nghttp2 (server or client role): bytes in through
// receive(), events out through H2Events, frames out through produce(). Flow control is manual:
// received DATA is acknowledged (WINDOW_UPDATE) only when the owner consume()s it, so a slow
// consumer stops the peer; outgoing DATA is pulled from the owner only as the peer's windows
// allow. Defences against the known HTTP/2 floods end the session with GOAWAY. One per
// connection, single-threaded, no I/O.
//
// Invariants:
//  1. Every header block is decoded into one HeaderBlock; blocks never interleave (RFC 9113
//     §4.3), so the session keeps one block being built.
//  2. Once fatal() is true the session only flushes what it queued (its GOAWAY) and reads
//     nothing more.
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/codec/h2/flood_guard.h"
#include "adapters/codec/h2/header_block.h"
#include "core/http/header.h"

namespace vx::adapters::h2 {

struct H2Settings {
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_window = 65535;       // per stream: bytes the peer may send unacknowledged
  uint32_t connection_window = 1 << 20;  // the whole connection
  uint32_t max_header_list = 65536;      // decoded header bytes per block (HPACK bomb bound)
  uint32_t max_header_fields = 100;
  uint32_t max_continuations = 8;  // CONTINUATION frames after one HEADERS
  // Peer frames allowed per second before the connection is torn down with GOAWAY
  // ENHANCE_YOUR_CALM: RST_STREAM (CVE-2023-44487 rapid reset), SETTINGS + PING (control
  // floods, CVE-2019-9512/9515), empty DATA/HEADERS/CONTINUATION (CVE-2019-9518), PRIORITY.
  uint32_t max_resets_per_s = 100;
  uint32_t max_control_per_s = 200;
  uint32_t max_empty_per_s = 100;
  uint32_t max_priority_per_s = 1000;
  // Server: header blocks over the limits, answered 431 one by one up to this rate; and how far
  // over a block may decode before it is an HPACK bomb that ends the connection.
  uint32_t max_oversized_per_s = 20;
  uint32_t bomb_factor = 4;
};

// What the session tells its owner. Called from inside receive() or produce().
class H2Events {
 public:
  virtual ~H2Events() = default;
  // A header block: a request head (server), a response head, 1xx included (client), or
  // trailers (both). The owner may move the block's storage out.
  virtual void on_headers(int32_t stream_id, HeaderBlock& block, bool end_stream) = 0;
  // DATA payload; the owner consume()s it once it has taken the bytes.
  virtual void on_data(int32_t stream_id, std::string_view data) = 0;
  virtual void on_end_stream(int32_t stream_id) = 0;
  // The stream is gone (finished, reset by either side, refused by GOAWAY).
  virtual void on_stream_close(int32_t stream_id, uint32_t error_code) = 0;
  // Body bytes to send on `stream_id`: copy at most `max` into `into`; return the count, or -1
  // when nothing is queued yet (the stream waits for resume()). Set `eof` with the last bytes,
  // and `trailers` when trailers follow them.
  virtual long on_send_body(int32_t stream_id, uint8_t* into, size_t max, bool& eof,
                            const core::http::HeaderList*& trailers) = 0;
  virtual void on_goaway(uint32_t /*last_stream_id*/, uint32_t /*error_code*/) {}
};

class H2Session {
 public:
  enum class Role : uint8_t { Server, Client };

  H2Session(Role role, const H2Settings& settings, H2Events& events);
  ~H2Session();
  H2Session(const H2Session&) = delete;
  H2Session& operator=(const H2Session&) = delete;

  // Feeds received bytes. False when the session became fatal (protocol error, flood): the
  // owner then flushes produce() and closes.
  bool receive(std::string_view bytes, std::chrono::steady_clock::time_point now);
  // Appends every frame ready to go to `out` (bounded by the peer's windows). False if fatal.
  bool produce(std::string& out);
  bool fatal() const { return fatal_; }
  // The session has nothing left to do (both sides done, or GOAWAY sent and flushed).
  bool finished() const;
  // Frames are queued for the next produce().
  bool wants_write() const { return nghttp2_session_want_write(session_) != 0; }
  // The error code this side sent in GOAWAY, if any.
  uint32_t goaway_code() const { return goaway_code_; }

  // Server: the response head; has_body = DATA follows (pulled through on_send_body).
  bool submit_response(int32_t stream_id, uint16_t status, const core::http::HeaderList& headers,
                       bool has_body);
  // Server: a 1xx head before the final one.
  bool submit_interim(int32_t stream_id, uint16_t status, const core::http::HeaderList& headers);
  // Client: a request; returns the new stream id, or a negative value when refused.
  int32_t submit_request(std::string_view method, std::string_view scheme,
                         std::string_view authority, std::string_view path,
                         const core::http::HeaderList& headers, bool has_body);
  // More body bytes are queued for `stream_id`.
  void resume(int32_t stream_id);
  // The owner took `bytes` of received DATA: lets the peer send that much more.
  void consume(int32_t stream_id, size_t bytes);
  void reset(int32_t stream_id, uint32_t error_code);
  // Graceful: GOAWAY announcing no new streams; finishes the open ones.
  void shutdown();
  void terminate(uint32_t error_code);
  // Server side of "Upgrade: h2c" (RFC 7540 §3.2): stream 1 becomes the upgraded request.
  bool upgrade(std::string_view settings_payload, bool head_request);
  // Server: request streams open now (the ones past max_concurrent_streams were refused).
  uint32_t open_requests() const { return open_requests_; }

  // Client: streams the peer allows at once (its SETTINGS_MAX_CONCURRENT_STREAMS).
  uint32_t peer_max_concurrent_streams() const;
  bool stream_is_open(int32_t stream_id) const;
  // This side's END_STREAM for the stream went out in a produce() (or the stream is gone).
  bool local_closed(int32_t stream_id) const;
  // The session is idle (nothing to send): the pages of nghttp2's outbound frame buffer, ~16 KB
  // it keeps for the session's life, go back to the system until the next frame is packed, and
  // so does the page of its stream map's table while no stream is left in it (issue 19), and the
  // scratch room of the last heads. The pages once per idle period: a second call before the
  // next frame leaves them.
  void release_idle_buffers();

 private:
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, nghttp2_rcbuf* name,
                       nghttp2_rcbuf* value, uint8_t flags, void* self);
  static int on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* self);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                           size_t len, void* self);
  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* self);
  static ssize_t on_read_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                              uint32_t* data_flags, nghttp2_data_source* source, void* self);
  bool submit_headers_nv(int32_t stream_id, uint16_t status, const core::http::HeaderList& headers,
                         bool has_body, bool final_head);
  void build_nv(const core::http::HeaderList& headers);
  void flood(std::string_view why);
  // Server: the stream's request was admitted (not refused over the stream limit).
  bool admitted(int32_t stream_id) const;
  // Server: SETTINGS_MAX_CONCURRENT_STREAMS goes out in a frame of its own (see produce()).
  void announce_stream_limit(std::string& out, size_t from);
  // nghttp2's allocator (nghttp2_mem): malloc's, except that the outbound frame buffer and the
  // stream map's table get pages of their own, so release_idle_buffers() can hand them back.
  static void* mem_malloc(size_t size, void* self);
  static void mem_free(void* ptr, void* self);
  static void* mem_calloc(size_t n, size_t size, void* self);
  static void* mem_realloc(void* ptr, size_t size, void* self);

  Role role_;
  H2Settings settings_;
  H2Events& events_;
  nghttp2_session* session_ = nullptr;
  void* frame_buffer_ = nullptr;  // nghttp2's outbound frame buffer, page-aligned
  bool frame_buffer_released_ = false;
  void* stream_table_ = nullptr;  // nghttp2's stream map table, one page
  bool stream_table_released_ = false;
  bool fatal_ = false;
  uint32_t goaway_code_ = 0;

  HeaderBlock block_;  // invariant 1
  uint64_t block_bytes_ = 0;
  uint64_t block_fields_ = 0;
  std::chrono::steady_clock::time_point now_{};
  FloodGuard resets_, control_, empty_, priority_, oversized_, refused_;
  uint32_t open_requests_ = 0;
  bool limit_announced_ = false;

  std::string nv_bytes_;  // lower-cased names for submit (nghttp2 copies them)
  std::vector<nghttp2_nv> nv_;
};

}  // namespace vx::adapters::h2
