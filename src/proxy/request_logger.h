// RequestLogger: the on_log hook, called once per finished stream on the worker's thread, for
// every observer of the worker (access log, metrics). Views live only during the call.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace vx::proxy {

class Runtime;
inline constexpr uint32_t kNoIndex = std::numeric_limits<uint32_t>::max();

// The protocol a request came in on (vortex_downstream_requests_total): HTTP/1.x, HTTP/2 (TLS
// or h2c), HTTP/3.
enum class DownstreamProtocol : uint8_t { Http1, Http2, Http3 };
inline constexpr size_t kDownstreamProtocols = 3;

// What the rate-limit stage decided for the stream (vortex_rate_limit_decisions_total).
enum class RateLimitOutcome : uint8_t { None, Allowed, Limited, Error };

struct RequestRecord {
  std::string_view method;
  std::string_view path;
  std::string_view route;     // empty when no route matched
  std::string_view upstream;  // endpoint address; empty when none was used
  std::string_view request_id;
  std::string_view client_ip;
  uint16_t status = 0;
  uint64_t bytes_sent = 0;  // response body bytes
  std::chrono::nanoseconds duration{0};
  // Positions for per-route / per-endpoint state (metrics shards), valid in `runtime`.
  const Runtime* runtime = nullptr;
  uint32_t route_index = kNoIndex;
  uint32_t cluster_index = kNoIndex;
  uint32_t endpoint_index = kNoIndex;  // the endpoint of the last attempt
  std::string_view cluster;            // empty when no cluster was used
  RateLimitOutcome rate_limit = RateLimitOutcome::None;
  uint32_t policy_index = kNoIndex;  // into runtime->policies() when rate_limit != None
  std::string_view trace_id;         // 32 hex digits; empty when tracing is off
  std::string_view listener;         // the configured listener's name
  DownstreamProtocol protocol = DownstreamProtocol::Http1;
};

class RequestLogger {
 public:
  virtual ~RequestLogger() = default;
  virtual void on_log(const RequestRecord& record) = 0;
};

}  // namespace vx::proxy
