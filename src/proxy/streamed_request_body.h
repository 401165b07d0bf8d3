// StreamedRequestBody: the request body of one stream of a multiplexed connection (HTTP/2,
// HTTP/3) between the connection, which receives it, and the pipeline, which reads it through
// DownstreamExchange::read_body(). Worker thread only; it never waits (the exchange does).
//
// Invariant: received bytes are credited back to the peer (flow control) only once the
// pipeline took them, so the peer never has more than one stream window buffered here: what
// next() hands out is kept until the following read, whose take_credit() returns its size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/http/error.h"
#include "core/http/header.h"
#include "core/result.h"
#include "ports/upstream_pool.h"

namespace vx::proxy {

class StreamedRequestBody {
 public:
  // From the connection: body bytes, trailers, the end of the body.
  void append(std::string_view data) {
    in_.append(data);
    received_ += data.size();
  }
  core::http::HeaderList& trailers() { return trailers_; }
  void end() { ended_ = true; }
  bool ended() const { return ended_; }

  // From read_body(): the bytes the pipeline took at the previous read, to credit to the peer
  // now (forgotten here); 0 when there are none.
  size_t take_credit();
  // The next chunk for the pipeline (its views live until the next take_credit()); an error
  // when the body passed `max_body_bytes` (0: no limit; 413), or when no more bytes can come
  // because the stream closed or its deadline expired; nullopt while nothing is buffered:
  // the caller waits for the connection's next append() or end().
  std::optional<core::Result<ports::BodyChunk, core::http::Error>> next(uint64_t max_body_bytes,
                                                                        bool closed, bool expired);

  // Bytes received that nobody credited yet (to credit when the stream ends).
  size_t unread_bytes() const { return in_.size() + taken_.size(); }
  // Bytes of buffer capacity held (what keeping the stream for reuse costs).
  size_t capacity() const { return in_.capacity() + taken_.capacity(); }
  // Ready for a new stream; keeps the buffers' capacity.
  void clear();

 private:
  std::string in_;     // received, not yet handed out
  std::string taken_;  // handed to the pipeline, credited at the next read
  std::string_view taken_view_;
  uint64_t received_ = 0;
  bool ended_ = false;
  core::http::HeaderList trailers_;
};

}  // namespace vx::proxy
