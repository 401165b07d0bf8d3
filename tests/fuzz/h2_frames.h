// OutgoingFrames: reads back what an H2Session produce()s, so the HTTP/2 targets can check
// the frames Vortex sends whatever the peer did: whole frames at every produce() boundary,
// frame types on the right streams, header blocks not interleaved and decodable (by
// nghttp2's own HPACK inflater), names lower case without connection-specific fields, pseudo
// fields first, and nothing on a stream after its END_STREAM but RST_STREAM, WINDOW_UPDATE or
// PRIORITY. Traps (VX_FUZZ_CHECK) on a violation. One per session under test.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_support.h"

namespace vx::fuzz {

class OutgoingFrames {
 public:
  // What this side sent on one stream.
  struct Stream {
    int heads = 0;            // header blocks (interim, final head, trailers)
    bool final_head = false;  // a request, or a response with a final status
    bool trailers = false;    // a block after the final head
    bool end_stream = false;  // END_STREAM went out
    uint64_t data_bytes = 0;  // DATA payload, padding excluded
    std::vector<std::pair<std::string, std::string>> last_block;  // the latest decoded block
  };

  explicit OutgoingFrames(bool server) : server_(server) {
    nghttp2_hd_inflate_new(&inflater_);
    if (!server) magic_left_ = kClientMagic.size();
  }
  ~OutgoingFrames() { nghttp2_hd_inflate_del(inflater_); }
  OutgoingFrames(const OutgoingFrames&) = delete;
  OutgoingFrames& operator=(const OutgoingFrames&) = delete;

  // The bytes one produce() call appended. They must end on a frame boundary.
  void scan(std::string_view bytes) {
    if (magic_left_ > 0) {  // the client preface comes first, whole
      VX_FUZZ_CHECK(bytes.substr(0, magic_left_) == kClientMagic);
      bytes.remove_prefix(magic_left_);
      magic_left_ = 0;
    }
    while (!bytes.empty()) {
      VX_FUZZ_CHECK(bytes.size() >= 9);
      const auto u8 = [&](size_t i) {
        return static_cast<uint32_t>(static_cast<uint8_t>(bytes[i]));
      };
      const uint32_t length = u8(0) << 16 | u8(1) << 8 | u8(2);
      const uint8_t type = static_cast<uint8_t>(u8(3));
      const uint8_t flags = static_cast<uint8_t>(u8(4));
      const int32_t id =
          static_cast<int32_t>((u8(5) << 24 | u8(6) << 16 | u8(7) << 8 | u8(8)) & 0x7fffffff);
      // nghttp2 never sends more than the 16384 every peer accepts (RFC 9113 §4.2).
      VX_FUZZ_CHECK(length <= 16384);
      VX_FUZZ_CHECK(bytes.size() >= 9 + length);
      frame(type, flags, id, bytes.substr(9, length));
      bytes.remove_prefix(9 + length);
    }
  }

  const Stream* stream(int32_t id) const {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
  }
  bool goaway_sent() const { return goaway_; }

 private:
  static constexpr std::string_view kClientMagic = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

  void frame(uint8_t type, uint8_t flags, int32_t id, std::string_view payload) {
    if (!settings_seen_) {  // RFC 9113 §3.4: the preface's SETTINGS comes first
      VX_FUZZ_CHECK(type == NGHTTP2_SETTINGS && !(flags & NGHTTP2_FLAG_ACK));
      settings_seen_ = true;
    }
    // A header block's CONTINUATIONs follow it with nothing in between (RFC 9113 §4.3).
    if (block_stream_ != 0) VX_FUZZ_CHECK(type == NGHTTP2_CONTINUATION && id == block_stream_);
    switch (type) {
      case NGHTTP2_SETTINGS:
      case NGHTTP2_PING:
      case NGHTTP2_GOAWAY:
        VX_FUZZ_CHECK(id == 0);
        goaway_ = goaway_ || type == NGHTTP2_GOAWAY;
        return;
      case NGHTTP2_WINDOW_UPDATE:
        return;
      case NGHTTP2_PUSH_PROMISE:
        VX_FUZZ_CHECK(false);  // push is never used, by either role
        return;
      case NGHTTP2_RST_STREAM:
      case NGHTTP2_PRIORITY:
        VX_FUZZ_CHECK(id != 0);
        return;
      case NGHTTP2_DATA: {
        VX_FUZZ_CHECK(id != 0);
        Stream& s = streams_[id];
        VX_FUZZ_CHECK(s.final_head && !s.end_stream);
        s.data_bytes += payload.size() - padding(flags, payload);
        s.end_stream = flags & NGHTTP2_FLAG_END_STREAM;
        return;
      }
      case NGHTTP2_HEADERS: {
        VX_FUZZ_CHECK(id != 0);
        // A client's streams are odd, and a server answers only those (no push).
        VX_FUZZ_CHECK(id % 2 == 1);
        Stream& s = streams_[id];
        VX_FUZZ_CHECK(!s.end_stream);
        std::string_view fragment = payload.substr(0, payload.size() - padding(flags, payload));
        if (flags & NGHTTP2_FLAG_PADDED) fragment.remove_prefix(1);
        if (flags & NGHTTP2_FLAG_PRIORITY) fragment.remove_prefix(5);
        block_.assign(fragment);
        block_end_stream_ = flags & NGHTTP2_FLAG_END_STREAM;
        if (flags & NGHTTP2_FLAG_END_HEADERS) {
          end_block(id);
        } else {
          block_stream_ = id;
        }
        return;
      }
      case NGHTTP2_CONTINUATION:
        VX_FUZZ_CHECK(id == block_stream_);
        block_.append(payload);
        if (flags & NGHTTP2_FLAG_END_HEADERS) {
          block_stream_ = 0;
          end_block(id);
        }
        return;
      default:
        VX_FUZZ_CHECK(false);  // nothing else is ever sent
    }
  }

  static size_t padding(uint8_t flags, std::string_view payload) {
    if (!(flags & NGHTTP2_FLAG_PADDED)) return 0;
    VX_FUZZ_CHECK(!payload.empty());
    const size_t pad = static_cast<uint8_t>(payload[0]);
    VX_FUZZ_CHECK(pad + 1 <= payload.size());
    return pad + 1;
  }

  void end_block(int32_t id) {
    Stream& s = streams_[id];
    s.last_block.clear();
    const auto* in = reinterpret_cast<const uint8_t*>(block_.data());
    size_t left = block_.size();
    for (;;) {
      nghttp2_nv nv;
      int out_flags = 0;
      const ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &out_flags, in, left, 1);
      VX_FUZZ_CHECK(n >= 0);  // our own HPACK output always decodes
      in += n;
      left -= static_cast<size_t>(n);
      if (out_flags & NGHTTP2_HD_INFLATE_EMIT) {
        s.last_block.emplace_back(
            std::string(reinterpret_cast<const char*>(nv.name), nv.namelen),
            std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen));
      }
      if (out_flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(inflater_);
        break;
      }
      VX_FUZZ_CHECK(n > 0 || left > 0);
    }
    check_block(s);
    ++s.heads;
    s.end_stream = block_end_stream_;
  }

  // RFC 9113 §8.2 and §8.3: what any block this side sends must look like.
  void check_block(Stream& s) const {
    bool regular_seen = false;
    int status = 0;
    for (const auto& [name, value] : s.last_block) {
      VX_FUZZ_CHECK(!name.empty());
      for (char c : name) VX_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
      VX_FUZZ_CHECK(carries_no_line_break(value));
      if (name[0] == ':') {
        VX_FUZZ_CHECK(!regular_seen && !s.final_head);  // pseudo fields first, none in trailers
        if (name == ":status") {
          VX_FUZZ_CHECK(server_ && status == 0 && value.size() == 3);
          for (char c : value) VX_FUZZ_CHECK(c >= '0' && c <= '9');
          status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
        }
        continue;
      }
      regular_seen = true;
      VX_FUZZ_CHECK(name != "connection" && name != "keep-alive" && name != "proxy-connection" &&
                    name != "transfer-encoding" && name != "upgrade" && name != "host");
      if (name == "te") VX_FUZZ_CHECK(value == "trailers");
    }
    if (s.final_head) {
      s.trailers = true;
      return;
    }
    if (server_) {
      VX_FUZZ_CHECK(status >= 100);
      s.final_head = status >= 200;
    } else {
      s.final_head = true;
    }
  }

  bool server_;
  nghttp2_hd_inflater* inflater_ = nullptr;
  size_t magic_left_ = 0;
  bool settings_seen_ = false;
  bool goaway_ = false;
  int32_t block_stream_ = 0;  // a block waiting for its CONTINUATION, or 0
  std::string block_;
  bool block_end_stream_ = false;
  std::map<int32_t, Stream> streams_;
};

}  // namespace vx::fuzz
