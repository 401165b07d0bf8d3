// H1InFlight: what an HTTP/1.1 connection needs only while a request is in flight: the
// pipeline's scratch, the response head being built, the gathered write, the chunk framing, and
// the request's header list. A connection takes one from its worker's pool when a request's
// bytes arrive and gives it back when it goes idle (issue 19: an idle connection holds no more
// than a small fixed state). Pooled objects keep their capacity, so the busy path reuses warm
// storage without malloc; one that grew large (a huge head, a long body prefix) is freed
// instead of pooled, and the pool keeps a bounded number.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/http/header.h"
#include "proxy/stream_scratch.h"

namespace vx::adapters::net {

struct H1InFlight {
  proxy::StreamScratch scratch;
  std::string out;  // the response head (and framing) not yet written
  std::vector<boost::asio::const_buffer> gather;
  std::vector<std::array<char, 20>> chunk_headers;
  std::string chunk_tail;          // the last chunk and its trailers
  core::http::HeaderList headers;  // the request's, swapped into its RequestHead while lent

  size_t capacity() const {
    return scratch.capacity() + out.capacity() +
           gather.capacity() * sizeof(boost::asio::const_buffer) + chunk_headers.capacity() * 20 +
           chunk_tail.capacity() + headers.capacity() * sizeof(core::http::Header);
  }
};

// One per worker thread (thread_local: never shared, so no lock).
class H1InFlightPool {
 public:
  static constexpr size_t kKeep = 32;
  static constexpr size_t kMaxPooledBytes = 32 * 1024;

  static H1InFlightPool& local() {
    thread_local H1InFlightPool pool;
    return pool;
  }
  std::unique_ptr<H1InFlight> take() {
    if (free_.empty()) return std::make_unique<H1InFlight>();
    auto s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void give(std::unique_ptr<H1InFlight> s) {
    if (free_.size() < kKeep && s->capacity() <= kMaxPooledBytes) free_.push_back(std::move(s));
  }

 private:
  H1InFlightPool() { free_.reserve(kKeep); }
  std::vector<std::unique_ptr<H1InFlight>> free_;
};

}  // namespace vx::adapters::net
