// Version-neutral request and response heads: what the pipeline reads and what each codec
// serialises. Views only; see header.h for who owns the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/http/header.h"

namespace vx::core::http {

// How a message body is delimited on the wire it arrived on.
enum class BodyFraming : uint8_t {
  None,           // no body (GET without length, HEAD response, 204, 304, 1xx)
  ContentLength,  // exactly content_length bytes
  Chunked,        // HTTP/1.1 chunked, or an HTTP/2 stream of unknown length
  UntilClose,     // HTTP/1 response delimited by the connection closing (RFC 9112 §6.3 rule 8)
};

struct RequestHead {
  std::string_view method;
  std::string_view scheme;     // "http" or "https"
  std::string_view authority;  // Host header or :authority
  std::string_view target;     // origin-form path with query
  uint8_t version_minor = 1;   // HTTP/1.x minor; 1 for h2/h3
  HeaderList headers;          // end-to-end and hop-by-hop fields as received
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool upgrade = false;          // Connection: upgrade + Upgrade: x (HTTP/1.1 only)
  bool expect_continue = false;  // Expect: 100-continue

  std::string_view path() const { return target.substr(0, target.find('?')); }
  void clear() {
    *this = RequestHead{.headers = std::move(headers)};
    headers.clear();
  }
};

struct ResponseHead {
  uint16_t status = 0;
  std::string_view reason;
  uint8_t version_minor = 1;
  HeaderList headers;
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool keep_alive = true;  // the upstream connection may be reused after this response
  // The bytes the head was parsed from, when it came from one contiguous buffer (HTTP/1):
  // views parsed from it point into it and die with it. Empty otherwise (HTTP/2's decoded
  // fields, a head built in code). Fields added later may point elsewhere.
  std::string_view wire;

  void clear() {
    *this = ResponseHead{.headers = std::move(headers)};
    headers.clear();
  }
};

// RFC 9110 §9.2.2: methods a proxy may retry on its own.
inline bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

}  // namespace vx::core::http
