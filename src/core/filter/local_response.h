// LocalResponse: an answer a filter gives instead of the upstream's. Views only: the filter
// keeps the bytes alive for the stream (FilterStream::keep, or data that outlives the stream
// such as its route's config). Extra header fields go through FilterStream::add_response_header.
#pragma once

#include <cstdint>
#include <string_view>

namespace vx::core::filter {

struct LocalResponse {
  uint16_t status = 200;          // 200..599
  std::string_view content_type;  // empty: no Content-Type field
  std::string_view body;
};

}  // namespace vx::core::filter
