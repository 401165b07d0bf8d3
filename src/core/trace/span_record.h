// SpanRecord: one finished span as the data plane hands it to the exporter: a fixed-size
// value (no pointer into the stream, no heap), so recording it is a copy into a queue slot and
// the exporter's thread may read it after the stream, its config snapshot and its buffers are
// gone. Texts longer than their slot are cut (a span is a diagnosis, not a transcript).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/trace/trace_context.h"

namespace vx::core::trace {

template <size_t N>
class FixedText {
 public:
  // An empty view may have no data pointer, which memcpy must not see even for 0 bytes.
  void assign(std::string_view text) {
    size_ = static_cast<uint16_t>(std::min(text.size(), N));
    if (size_ != 0) std::memcpy(data_, text.data(), size_);
  }
  void append(std::string_view text) {
    const size_t n = std::min(text.size(), N - size_);
    if (n != 0) std::memcpy(data_ + size_, text.data(), n);
    size_ = static_cast<uint16_t>(size_ + n);
  }
  std::string_view view() const { return {data_, size_}; }
  bool empty() const { return size_ == 0; }

 private:
  char data_[N];
  uint16_t size_ = 0;
};

// OTLP's numbering (opentelemetry/proto/trace/v1/trace.proto Span.SpanKind, Status.StatusCode).
enum class SpanKind : uint8_t { Server = 2, Client = 3 };
enum class SpanStatus : uint8_t { Unset = 0, Ok = 1, Error = 2 };

enum class SpanEventKind : uint8_t {
  RateLimited,  // the rate limit denied the request (429)
  NoEndpoint,   // no endpoint admitted it: circuit breakers open or endpoints unhealthy (503)
};

struct SpanEvent {
  SpanEventKind kind = SpanEventKind::RateLimited;
  uint64_t time_unix_ns = 0;
};

enum class RateLimitDecision : uint8_t { None, Allowed, Limited, Error };

struct SpanRecord {
  static constexpr size_t kMaxEvents = 2;

  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;  // invalid (all zeroes): a root span
  uint8_t flags = 0;
  SpanKind kind = SpanKind::Server;
  SpanStatus status = SpanStatus::Unset;
  RateLimitDecision rate_limit = RateLimitDecision::None;
  uint8_t event_count = 0;
  std::array<SpanEvent, kMaxEvents> events{};
  uint16_t http_status = 0;  // 0: no response status (a failed attempt)
  uint16_t server_port = 0;  // SERVER: the port the request arrived on; CLIENT: the endpoint's
  uint16_t client_port = 0;  // SERVER only
  uint16_t attempts = 0;     // SERVER: upstream attempts made; CLIENT: resends before this one
  uint64_t start_unix_ns = 0;
  uint64_t end_unix_ns = 0;
  FixedText<16> method;
  FixedText<8> scheme;
  FixedText<8> protocol_version;  // "1.0", "1.1", "2"
  FixedText<256> path;            // url.path, without the query
  FixedText<128> http_route;      // the matched route's path template
  FixedText<64> route;
  FixedText<64> cluster;
  FixedText<64> endpoint;         // the endpoint's configured address
  FixedText<128> server_address;  // SERVER: the Host asked for; CLIENT: the endpoint's host
  FixedText<48> client_address;
  FixedText<160> user_agent;
  FixedText<64> error;        // why it failed (error.type / status message)
  FixedText<32> answered_by;  // the filter that answered locally (a plugin's deny, a 429)

  void add_event(SpanEventKind what, uint64_t time_unix_ns) {
    if (event_count < kMaxEvents) events[event_count++] = {what, time_unix_ns};
  }
};

}  // namespace vx::core::trace
