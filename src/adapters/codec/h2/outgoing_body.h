// OutgoingBody: the body a stream has queued for nghttp2 to pull as DATA frames, its end and
// its trailers. Downstream responses and upstream requests queue alike. Single-threaded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "adapters/codec/h2/header_block.h"
#include "core/http/header.h"

namespace vx::adapters::h2 {

struct OutgoingBody {
  std::string bytes;
  size_t at = 0;      // first byte not pulled yet
  bool eof = false;   // the last piece is queued
  bool done = false;  // the last byte was handed to the session
  HeaderBlock trailer_block;
  core::http::HeaderList trailers;  // views into trailer_block

  size_t unsent() const { return bytes.size() - at; }

  void clear() {
    bytes.clear();
    at = 0;
    eof = done = false;
    trailer_block.clear();
    trailers.clear();
  }

  // Copies `pieces` in; with `last`, the body ends after them, followed by `trailers` if any
  // (copied: the caller's views may die; the codec lower-cases the names on submit).
  void queue(std::span<const std::string_view> pieces, bool last,
             const core::http::HeaderList* end_trailers) {
    for (auto piece : pieces) bytes.append(piece);
    if (!last) return;
    eof = true;
    if (end_trailers && !end_trailers->empty()) {
      trailer_block.clear();
      for (const auto& h : *end_trailers) trailer_block.add(h.name, h.value);
      trailers.clear();
      trailer_block.regular_fields(trailers);
    }
  }

  // nghttp2's pull (H2Events::on_send_body): copies at most `max` bytes. Returns the count
  // (eof and trailers set with the last bytes), or -1 when nothing is queued yet.
  long pull(uint8_t* into, size_t max, bool& end, const core::http::HeaderList*& end_trailers) {
    const size_t n = std::min(max, unsent());
    if (n > 0) std::memcpy(into, bytes.data() + at, n);
    at += n;
    if (at == bytes.size()) {
      bytes.clear();
      at = 0;
      if (eof) {
        end = true;
        done = true;
        if (!trailers.empty()) end_trailers = &trailers;
      }
    }
    return n > 0 || done ? static_cast<long>(n) : -1;
  }
};

}  // namespace vx::adapters::h2
