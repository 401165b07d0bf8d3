// Reading an HTTP/2 response head into the version-neutral ResponseHead: the :status
// pseudo-header and how the body is delimited for a downstream of any version. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/http/message_head.h"

namespace vx::core::http {

// RFC 9113 §8.3.2: exactly three digits. 0 when malformed.
uint16_t parse_h2_status(std::string_view value);

struct H2BodyFraming {
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool valid = true;  // false: a content-length that is not one decimal number
};

// HTTP/2 frames bodies itself (DATA + END_STREAM), so an HTTP/1.1 downstream needs framing
// chosen here: the upstream's content-length when it sent one (RFC 9113 §8.1.1 makes it
// binding), none when the head ended the stream, chunked otherwise. 1xx, 204 and 304 never
// have a body (RFC 9110 §6.4.1); a HEAD answer keeps the length it announces.
H2BodyFraming h2_response_framing(uint16_t status, std::optional<std::string_view> content_length,
                                  bool end_stream, bool head_request);

}  // namespace vx::core::http
