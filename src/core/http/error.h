// The closed set of failures the data plane can meet, who caused each, and the one mapping from
// a failure to the HTTP answer of SPEC.md §3. Errors are values; detail points at a literal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vx::core::http {

enum class ErrorKind : uint8_t {
  // downstream input (SPEC.md §3)
  BadRequest,        // 400: malformed or ambiguous request
  RequestTimeout,    // 408: the head did not arrive within header_timeout_ms
  BodyTooLarge,      // 413
  UriTooLong,        // 414
  HeadersTooLarge,   // 431: head over max_header_bytes or more than max_headers fields
  DownstreamClosed,  // the client went away: no answer possible
  // routing and policy
  NoRoute,      // 404
  NoEndpoint,   // 503: all endpoints open-circuit, unhealthy or filtered out
  RateLimited,  // 429 (answered by the rate-limit stage with its own headers)
  Forbidden,    // 403: a filter denied, or held the request and never resumed it
  // upstream
  UpstreamConnectRefused,  // 502
  UpstreamConnectTimeout,  // 504
  UpstreamReset,           // 502: closed or reset before a complete response head
  UpstreamBadResponse,     // 502: unparseable response
  UpstreamTimeout,         // 504: no response head within the route's timeout_ms
  Internal,                // 500
};

enum class ErrorSource : uint8_t { Downstream, Upstream, Internal };

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string_view detail;  // a literal: no allocation on the error path either

  ErrorSource source() const;
  // Retryable on another connection: the upstream never saw a byte of the request, or reset
  // it before answering (SPEC.md retries.on: connect_failure, reset).
  bool is_connect_failure() const {
    return kind == ErrorKind::UpstreamConnectRefused || kind == ErrorKind::UpstreamConnectTimeout;
  }
  bool is_reset() const { return kind == ErrorKind::UpstreamReset; }
};

uint16_t status_for(ErrorKind kind);
std::string_view reason_phrase(uint16_t status);

// The JSON body of SPEC.md §3 for an error answer: {"error":"<reason>","message":"<detail>"}.
// 503 and 404 carry the SPEC's fixed messages whatever the detail.
std::string error_body(const Error& error);

// JSON string escaping (RFC 8259 §7) appended to out.
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace vx::core::http
