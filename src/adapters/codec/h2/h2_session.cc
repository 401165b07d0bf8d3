#include "adapters/codec/h2/h2_session.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace vx::adapters::h2 {

namespace {

H2Session& self_of(void* p) {
  return *static_cast<H2Session*>(p);
}

std::string_view view(nghttp2_rcbuf* buf) {
  const nghttp2_vec v = nghttp2_rcbuf_get_buf(buf);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

// Fields HTTP/2 forbids (RFC 9113 §8.2.2); the pipeline strips most hop-by-hop fields, these
// are the ones an HTTP/1.1 peer may still have left.
bool connection_specific(std::string_view lower) {
  return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection" ||
         lower == "transfer-encoding" || lower == "upgrade" || lower == "host";
}

// nghttp2 allocates its outbound frame buffer (a frame head, a padding byte, the largest
// payload) once per session, as realloc(NULL, this).
constexpr size_t kFrameBufferBytes = 9 + 1 + 16384;
constexpr size_t kPageBytes = 4096;
constexpr size_t kFrameBufferSpan = (kFrameBufferBytes + kPageBytes - 1) / kPageBytes * kPageBytes;

bool all_zero(const void* block, size_t bytes) {
  const auto* words = static_cast<const uint64_t*>(block);
  uint64_t any = 0;
  for (size_t i = 0; i < bytes / sizeof(uint64_t); ++i) any |= words[i];
  return any == 0;
}

}  // namespace

void* H2Session::mem_malloc(size_t size, void*) {
  return std::malloc(size);
}

void H2Session::mem_free(void* ptr, void* self) {
  auto* s = static_cast<H2Session*>(self);
  if (ptr && ptr == s->frame_buffer_) s->frame_buffer_ = nullptr;
  if (ptr && ptr == s->stream_table_) s->stream_table_ = nullptr;
  std::free(ptr);
}

void* H2Session::mem_calloc(size_t n, size_t size, void* self) {
  auto* s = static_cast<H2Session*>(self);
  // While the session is being made (session_ is set last), the one page-sized calloc is its
  // stream map's table (256 empty buckets, zeroes).
  if (!s->session_ && !s->stream_table_ && n * size == kPageBytes) {
    s->stream_table_ = std::aligned_alloc(kPageBytes, kPageBytes);
    if (s->stream_table_) std::memset(s->stream_table_, 0, kPageBytes);
    return s->stream_table_;
  }
  return std::calloc(n, size);
}

void* H2Session::mem_realloc(void* ptr, size_t size, void* self) {
  auto* s = static_cast<H2Session*>(self);
  if (!ptr && size == kFrameBufferBytes && !s->frame_buffer_) {
    s->frame_buffer_ = std::aligned_alloc(kPageBytes, kFrameBufferSpan);
    return s->frame_buffer_;
  }
  if (ptr && ptr == s->frame_buffer_) s->frame_buffer_ = nullptr;  // moved: no longer ours
  if (ptr && ptr == s->stream_table_) s->stream_table_ = nullptr;
  return std::realloc(ptr, size);
}

void H2Session::release_idle_buffers() {
  // nghttp2 resets the buffer before it packs the next frame and never reads what an earlier
  // frame left there, and produce() drains every packed frame: with nothing left to send, its
  // bytes are dead, so its pages may come back zero-filled.
  if (frame_buffer_ && !frame_buffer_released_ && !wants_write()) {
    madvise(frame_buffer_, kFrameBufferSpan, MADV_DONTNEED);
    frame_buffer_released_ = true;
  }
  // With no stream left, the stream map's table is zeroes again (nghttp2 zeroes a removed
  // bucket), which is what a page given back reads as. Checked, not assumed: a stream nghttp2
  // still keeps (one half-closed, an idle one a PRIORITY frame made) keeps the page.
  if (stream_table_ && !stream_table_released_ && all_zero(stream_table_, kPageBytes)) {
    madvise(stream_table_, kPageBytes, MADV_DONTNEED);
    stream_table_released_ = true;
  }
  // Scratch room of the last head sent and received (unless a received one is still coming).
  std::vector<nghttp2_nv>().swap(nv_);
  std::string().swap(nv_bytes_);
  if (block_.fields.empty()) block_ = HeaderBlock{};
}

H2Session::H2Session(Role role, const H2Settings& settings, H2Events& events)
    : role_(role),
      settings_(settings),
      events_(events),
      resets_(settings.max_resets_per_s),
      control_(settings.max_control_per_s),
      empty_(settings.max_empty_per_s),
      priority_(settings.max_priority_per_s),
      oversized_(settings.max_oversized_per_s),
      refused_(settings.max_resets_per_s) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &H2Session::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback2(cb, &H2Session::on_header);
  nghttp2_session_callbacks_set_on_begin_frame_callback(cb, &H2Session::on_begin_frame);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &H2Session::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &H2Session::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &H2Session::on_stream_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_continuations(opt, settings.max_continuations);
  nghttp2_option_set_stream_reset_rate_limit(opt, settings.max_resets_per_s,
                                             settings.max_resets_per_s / 2 + 1);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
  // A server nghttp2 keeps each closed stream (~250 bytes) for the RFC 7540 priority tree, up
  // to its own MAX_CONCURRENT_STREAMS, which it never learns here (see below): it kept every
  // stream a connection ever had until the connection closed, 40 KB/s per connection at 160
  // requests/s. We schedule streams ourselves and read no priorities, so keep none (as Envoy
  // does).
  nghttp2_option_set_no_closed_streams(opt, 1);
  nghttp2_mem mem{this, &H2Session::mem_malloc, &H2Session::mem_free, &H2Session::mem_calloc,
                  &H2Session::mem_realloc};
  if (role == Role::Server) {
    nghttp2_session_server_new3(&session_, cb, this, opt, &mem);
  } else {
    nghttp2_session_client_new3(&session_, cb, this, opt, &mem);
  }
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);

  // A client announces ENABLE_PUSH 0; a server must not send it with another value than 0/1,
  // and 0 is fine for both.
  if (role == Role::Server) {
    // nghttp2 treats a stream over its own acknowledged MAX_CONCURRENT_STREAMS as a connection
    // error, which would end every other stream with it. So nghttp2 never learns the limit:
    // the session refuses streams past it itself (REFUSED_STREAM, RFC 9113 §5.1.2), and the
    // limit goes to the peer in the empty SETTINGS frame queued here, filled in by produce()
    // (nghttp2 still matches the peer's ACK to it). ENABLE_CONNECT_PROTOCOL: RFC 8441.
    const nghttp2_settings_entry entries[] = {
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries, std::size(entries));
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  } else {
    const nghttp2_settings_entry entries[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries, std::size(entries));
  }
  if (settings.connection_window > 65535) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<int32_t>(settings.connection_window));
  }
}

H2Session::~H2Session() {
  nghttp2_session_del(session_);
}

bool H2Session::receive(std::string_view bytes, std::chrono::steady_clock::time_point now) {
  if (fatal_) return false;
  now_ = now;
  stream_table_released_ = false;  // a frame may open a stream
  const ssize_t n = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (n < 0) {
    // BAD_CLIENT_MAGIC, FLOODED, callback failures: nghttp2 queued a GOAWAY where it could.
    if (goaway_code_ == 0) {
      goaway_code_ = n == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR;
      nghttp2_session_terminate_session(session_, goaway_code_);
    }
    fatal_ = true;
  }
  if (!nghttp2_session_want_read(session_)) fatal_ = fatal_ || goaway_code_ != 0;
  return !fatal_;
}

bool H2Session::produce(std::string& out) {
  const size_t from = out.size();
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      fatal_ = true;
      return false;
    }
    if (n == 0) break;
    frame_buffer_released_ = false;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  if (role_ == Role::Server && !limit_announced_) announce_stream_limit(out, from);
  return !fatal_;
}

void H2Session::announce_stream_limit(std::string& out, size_t from) {
  // The constructor's empty SETTINGS frame (type 4, no flags, no payload: nghttp2's own first
  // SETTINGS carries entries, so it is the only such frame) gets the stream limit.
  size_t at = from;
  while (at + 9 <= out.size()) {
    const auto byte = [&](size_t k) { return static_cast<uint8_t>(out[at + k]); };
    const size_t length = static_cast<size_t>(byte(0)) << 16 | byte(1) << 8 | byte(2);
    if (length == 0 && byte(3) == NGHTTP2_SETTINGS && byte(4) == 0) {
      const uint32_t n = settings_.max_concurrent_streams;
      const char limit[15] = {0,
                              0,
                              6,
                              NGHTTP2_SETTINGS,
                              0,
                              0,
                              0,
                              0,
                              0,
                              0,
                              NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
                              static_cast<char>(n >> 24),
                              static_cast<char>(n >> 16),
                              static_cast<char>(n >> 8),
                              static_cast<char>(n)};
      out.replace(at, 9, limit, sizeof limit);
      limit_announced_ = true;
      return;
    }
    at += 9 + length;
  }
}

bool H2Session::admitted(int32_t stream_id) const {
  return nghttp2_session_get_stream_user_data(session_, stream_id) != nullptr;
}

bool H2Session::finished() const {
  return !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_);
}

void H2Session::flood(std::string_view) {
  if (goaway_code_ == 0) {
    goaway_code_ = NGHTTP2_ENHANCE_YOUR_CALM;
    nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  }
  fatal_ = true;
}

int H2Session::on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* p) {
  H2Session& s = self_of(p);
  if (s.fatal_) return NGHTTP2_ERR_CALLBACK_FAILURE;
  const bool end_stream = hd->flags & NGHTTP2_FLAG_END_STREAM;
  switch (hd->type) {
    case NGHTTP2_DATA:
      if (hd->length == 0 && !end_stream && s.empty_.over(s.now_)) s.flood("empty DATA");
      break;
    case NGHTTP2_HEADERS:
    case NGHTTP2_CONTINUATION:
      // A header block that decodes to nothing new costs HPACK work and gives nothing back.
      if (hd->length == 0 && s.empty_.over(s.now_)) s.flood("empty header frames");
      break;
    case NGHTTP2_RST_STREAM:
      if (s.resets_.over(s.now_)) s.flood("rapid reset");
      break;
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PING:
      if (!(hd->flags & NGHTTP2_FLAG_ACK) && s.control_.over(s.now_)) s.flood("control frames");
      break;
    case NGHTTP2_PRIORITY:
      if (s.priority_.over(s.now_)) s.flood("priority frames");
      break;
    default:
      break;
  }
  return 0;
}

int H2Session::on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* p) {
  H2Session& s = self_of(p);
  s.block_.clear();
  s.block_bytes_ = 0;
  s.block_fields_ = 0;
  if (s.role_ == Role::Server && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    const int32_t id = frame->hd.stream_id;
    if (s.open_requests_ >= s.settings_.max_concurrent_streams) {
      // Its block is still decoded (HPACK stays in step) but never reaches the owner.
      if (s.refused_.over(s.now_)) s.flood("refused streams");
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
      return 0;
    }
    nghttp2_session_set_stream_user_data(session, id, &s);
    ++s.open_requests_;
  }
  return 0;
}

int H2Session::on_header(nghttp2_session* session, const nghttp2_frame* frame, nghttp2_rcbuf* name,
                         nghttp2_rcbuf* value, uint8_t, void* p) {
  H2Session& s = self_of(p);
  if (s.role_ == Role::Server && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
      !s.admitted(frame->hd.stream_id)) {
    return 0;  // a refused stream's fields
  }
  const std::string_view n = view(name), v = view(value);
  // RFC 7541 §4.1 accounting (32 bytes per field): an HPACK bomb decodes small frames into
  // huge header lists; the bound applies to what was decoded, not to what came on the wire.
  s.block_bytes_ += std::min<uint64_t>(n.size() + v.size() + 32, uint64_t{1} << 30);
  ++s.block_fields_;
  const bool over = s.block_bytes_ > s.settings_.max_header_list ||
                    s.block_fields_ > s.settings_.max_header_fields;
  if (!over) {
    s.block_.add(n, v);
    return 0;
  }
  // A server answers one oversized request 431 on its own stream; a block far over the limits
  // (an HPACK bomb), too many of them, or an oversized response ends the connection.
  const uint64_t bomb = uint64_t{s.settings_.max_header_list} * s.settings_.bomb_factor;
  if (s.role_ == Role::Server && s.block_bytes_ <= bomb &&
      s.block_fields_ <= uint64_t{s.settings_.max_header_fields} * s.settings_.bomb_factor) {
    if (!s.block_.too_large && s.oversized_.over(s.now_)) {
      s.flood("oversized header lists");
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    s.block_.too_large = true;
    return 0;
  }
  s.flood("header list too large");
  (void)session;
  return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

int H2Session::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* p) {
  H2Session& s = self_of(p);
  const int32_t id = frame->hd.stream_id;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      if (s.role_ == Role::Server && !s.admitted(id)) break;  // refused over the stream limit
      s.events_.on_headers(id, s.block_, end_stream);
      s.block_.clear();
      if (end_stream) s.events_.on_end_stream(id);
      break;
    }
    case NGHTTP2_DATA:
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) s.events_.on_end_stream(id);
      break;
    case NGHTTP2_GOAWAY:
      s.events_.on_goaway(static_cast<uint32_t>(frame->goaway.last_stream_id),
                          frame->goaway.error_code);
      break;
    default:
      break;
  }
  return 0;
}

int H2Session::on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                             size_t len, void* p) {
  self_of(p).events_.on_data(stream_id, {reinterpret_cast<const char*>(data), len});
  return 0;
}

int H2Session::on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* p) {
  H2Session& s = self_of(p);
  if (s.role_ == Role::Server && s.admitted(stream_id)) --s.open_requests_;
  s.events_.on_stream_close(stream_id, error_code);
  return 0;
}

ssize_t H2Session::on_read_body(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                                size_t length, uint32_t* data_flags, nghttp2_data_source*,
                                void* p) {
  H2Session& s = self_of(p);
  bool eof = false;
  const core::http::HeaderList* trailers = nullptr;
  const long n = s.events_.on_send_body(stream_id, buf, length, eof, trailers);
  if (n < 0) return NGHTTP2_ERR_DEFERRED;
  if (eof) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (trailers && !trailers->empty()) {
      s.build_nv(*trailers);
      if (nghttp2_submit_trailer(session, stream_id, s.nv_.data(), s.nv_.size()) == 0) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
  }
  return n;
}

void H2Session::build_nv(const core::http::HeaderList& headers) {
  size_t total = 0;
  for (const auto& h : headers) total += h.name.size();
  nv_bytes_.resize(total);  // sized once: the views into it stay valid
  char* bytes = nv_bytes_.data();
  size_t at = 0;
  nv_.clear();
  for (const auto& h : headers) {
    char* name = bytes + at;
    for (size_t i = 0; i < h.name.size(); ++i) name[i] = core::http::ascii_lower(h.name[i]);
    at += h.name.size();
    const std::string_view lower(name, h.name.size());
    if (connection_specific(lower)) continue;
    if (lower == "te" && !core::http::iequals(h.value, "trailers")) continue;
    nv_.push_back(make_nv(lower, h.value));
  }
}

bool H2Session::submit_headers_nv(int32_t stream_id, uint16_t status,
                                  const core::http::HeaderList& headers, bool has_body,
                                  bool final_head) {
  const unsigned code = status % 1000u;
  const char digits[3] = {static_cast<char>('0' + code / 100),
                          static_cast<char>('0' + code / 10 % 10),
                          static_cast<char>('0' + code % 10)};
  build_nv(headers);
  nv_.insert(nv_.begin(), make_nv(":status", std::string_view(digits, 3)));
  if (!final_head) {
    return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream_id, nullptr, nv_.data(),
                                  nv_.size(), nullptr) == 0;
  }
  nghttp2_data_provider provider{};
  provider.read_callback = &H2Session::on_read_body;
  return nghttp2_submit_response(session_, stream_id, nv_.data(), nv_.size(),
                                 has_body ? &provider : nullptr) == 0;
}

bool H2Session::submit_response(int32_t stream_id, uint16_t status,
                                const core::http::HeaderList& headers, bool has_body) {
  return submit_headers_nv(stream_id, status, headers, has_body, true);
}

bool H2Session::submit_interim(int32_t stream_id, uint16_t status,
                               const core::http::HeaderList& headers) {
  return submit_headers_nv(stream_id, status, headers, false, false);
}

int32_t H2Session::submit_request(std::string_view method, std::string_view scheme,
                                  std::string_view authority, std::string_view path,
                                  const core::http::HeaderList& headers, bool has_body) {
  build_nv(headers);
  stream_table_released_ = false;  // the stream opens when its HEADERS go out
  const nghttp2_nv pseudo[] = {make_nv(":method", method), make_nv(":scheme", scheme),
                               make_nv(":authority", authority), make_nv(":path", path)};
  nv_.insert(nv_.begin(), std::begin(pseudo), std::end(pseudo));
  nghttp2_data_provider provider{};
  provider.read_callback = &H2Session::on_read_body;
  return nghttp2_submit_request(session_, nullptr, nv_.data(), nv_.size(),
                                has_body ? &provider : nullptr, nullptr);
}

void H2Session::resume(int32_t stream_id) {
  nghttp2_session_resume_data(session_, stream_id);
}

void H2Session::consume(int32_t stream_id, size_t bytes) {
  if (bytes > 0) nghttp2_session_consume(session_, stream_id, bytes);
}

void H2Session::reset(int32_t stream_id, uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
}

void H2Session::shutdown() {
  if (role_ == Role::Server) {
    nghttp2_submit_shutdown_notice(session_);
  }
}

void H2Session::terminate(uint32_t error_code) {
  if (goaway_code_ == 0) goaway_code_ = error_code;
  nghttp2_session_terminate_session(session_, error_code);
}

bool H2Session::upgrade(std::string_view settings_payload, bool head_request) {
  // Stream 1 is the upgraded request: admitted like any request stream.
  if (nghttp2_session_upgrade2(session_, reinterpret_cast<const uint8_t*>(settings_payload.data()),
                               settings_payload.size(), head_request ? 1 : 0, this) != 0) {
    return false;
  }
  ++open_requests_;
  return true;
}

uint32_t H2Session::peer_max_concurrent_streams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool H2Session::stream_is_open(int32_t stream_id) const {
  return nghttp2_session_find_stream(session_, stream_id) != nullptr;
}

bool H2Session::local_closed(int32_t stream_id) const {
  return nghttp2_session_get_stream_local_close(session_, stream_id) != 0;  // -1: no such stream
}

}  // namespace vx::adapters::h2
