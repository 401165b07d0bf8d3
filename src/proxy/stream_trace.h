// StreamTrace: one stream's W3C trace context and the spans it records (docs/tracing.md): the
// caller's traceparent continued (else a new trace), one SERVER span for the stream, one CLIENT
// span per upstream attempt, and the traceparent each attempt carries upstream (its own span id).
// Lives in the exchange's scratch (reused stream after stream: no allocation) and is used only
// when tracing is on; on the worker's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/http/error.h"
#include "core/http/message_head.h"
#include "core/ports/random.h"
#include "core/trace/span_record.h"
#include "ports/filter_stream.h"
#include "ports/span_exporter.h"

namespace vx::proxy {

class StreamTrace {
 public:
  using Clock = std::chrono::steady_clock;

  // What the SERVER span says about how the stream ended.
  struct ServerOutcome {
    uint16_t status = 0;
    std::string_view route;
    std::string_view http_route;     // the route's path template
    bool http_route_prefix = false;  // ...is a prefix: "*" follows it
    std::string_view cluster;
    std::string_view endpoint;
    core::trace::RateLimitDecision rate_limit = core::trace::RateLimitDecision::None;
    std::string_view answered_by;  // the filter that answered locally, if one did
    std::string_view error;        // why the stream failed, if it did
  };
  // What a CLIENT span says about one attempt.
  struct AttemptOutcome {
    std::string_view cluster;
    std::string_view endpoint;  // "host:port"
    uint16_t upstream_status = 0;
    std::optional<core::http::Error> error;
  };

  // At the stream's start, before any filter: reads traceparent/tracestate (invalid ones are
  // absent: W3C Trace Context §3.2, §3.3), decides sampling (core/trace/sampler.h) and removes
  // the caller's traceparent (each attempt sends its own) and a tracestate that cannot go on.
  void begin(core::http::RequestHead& head, double sample_ratio, core::Random& random,
             Clock::time_point started, const ports::ConnectionFacts& facts);

  bool sampled() const { return sampled_; }
  // The trace id as 32 lower-case hex digits (the access log's trace_id).
  std::string_view trace_id_hex() const { return {trace_id_hex_, sizeof trace_id_hex_}; }

  // Before each upstream attempt: a new CLIENT span id, and the traceparent naming it set on
  // `head` (its view points into this object, valid until the next begin_attempt).
  void begin_attempt(core::http::RequestHead& head, core::Random& random);
  // After the attempt, on every path: records its CLIENT span when sampled.
  void end_attempt(ports::SpanExporter& exporter, const AttemptOutcome& outcome,
                   Clock::time_point ended);

  // A notable moment of the stream (a SERVER span event), when sampled.
  void event(core::trace::SpanEventKind kind, Clock::time_point at);

  // At the stream's single exit: records the SERVER span when sampled.
  void finish(ports::SpanExporter& exporter, const ServerOutcome& outcome, Clock::time_point ended);

 private:
  uint64_t unix_ns(Clock::time_point t) const;

  core::trace::TraceId trace_id_;
  core::trace::SpanId server_span_;
  core::trace::SpanId client_span_;
  uint8_t flags_ = 0;
  bool sampled_ = false;
  uint16_t attempts_ = 0;
  Clock::time_point steady_start_;
  Clock::time_point attempt_start_;
  uint64_t unix_start_ns_ = 0;
  char trace_id_hex_[32];
  char traceparent_[core::trace::kTraceParentSize];
  // Filled as the stream goes, when sampled (its head's views die before the stream ends).
  core::trace::SpanRecord server_;
};

}  // namespace vx::proxy
