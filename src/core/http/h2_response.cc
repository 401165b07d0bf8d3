#include "core/http/h2_response.h"

namespace vx::core::http {

uint16_t parse_h2_status(std::string_view value) {
  if (value.size() != 3) return 0;
  uint16_t status = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return 0;
    status = static_cast<uint16_t>(status * 10 + (c - '0'));
  }
  return status >= 100 ? status : 0;
}

H2BodyFraming h2_response_framing(uint16_t status, std::optional<std::string_view> content_length,
                                  bool end_stream, bool head_request) {
  if (status < 200 || status == 204 || status == 304) return {};
  if (content_length) {
    const std::string_view v = *content_length;
    if (v.empty() || v.size() > 19) return {BodyFraming::None, 0, false};
    uint64_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return {BodyFraming::None, 0, false};
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    return {BodyFraming::ContentLength, n, true};
  }
  if (end_stream || head_request) return {};
  return {BodyFraming::Chunked, 0, true};
}

}  // namespace vx::core::http
