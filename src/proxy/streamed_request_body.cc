#include "proxy/streamed_request_body.h"

namespace vx::proxy {

using core::http::Error;
using core::http::ErrorKind;

size_t StreamedRequestBody::take_credit() {
  const size_t n = taken_.size();
  taken_.clear();
  return n;
}

std::optional<core::Result<ports::BodyChunk, Error>> StreamedRequestBody::next(
    uint64_t max_body_bytes, bool closed, bool expired) {
  const core::http::HeaderList* trailers = trailers_.empty() ? nullptr : &trailers_;
  if (!in_.empty()) {
    if (max_body_bytes > 0 && received_ > max_body_bytes) {
      return core::unexpected(Error{ErrorKind::BodyTooLarge, "request body too large"});
    }
    taken_.swap(in_);
    taken_view_ = taken_;
    return ports::BodyChunk{{&taken_view_, 1}, ended_, ended_ ? trailers : nullptr};
  }
  if (ended_) return ports::BodyChunk{{}, true, trailers};
  if (closed) {
    return core::unexpected(
        Error{ErrorKind::DownstreamClosed, "client reset the stream before the body ended"});
  }
  if (expired) return core::unexpected(Error{ErrorKind::RequestTimeout, "body timed out"});
  return std::nullopt;
}

void StreamedRequestBody::clear() {
  in_.clear();
  taken_.clear();
  taken_view_ = {};
  received_ = 0;
  ended_ = false;
  trailers_.clear();
}

}  // namespace vx::proxy
