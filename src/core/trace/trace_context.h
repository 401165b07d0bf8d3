// W3C Trace Context (https://www.w3.org/TR/trace-context/) identifiers and the `traceparent`
// field: parsing as the spec's receivers must, and writing version 00. Pure values, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/ports/random.h"

namespace vx::core::trace {

struct TraceId {
  std::array<uint8_t, 16> bytes{};
  // §3.2.2.3: all zeroes is invalid.
  bool valid() const;
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

struct SpanId {
  std::array<uint8_t, 8> bytes{};
  bool valid() const;  // §3.2.2.4: all zeroes is invalid
  friend bool operator==(const SpanId&, const SpanId&) = default;
};

inline constexpr uint8_t kSampledFlag = 0x01;

// A parsed traceparent: the caller's trace and span (our parent), and its flags.
struct TraceParent {
  TraceId trace_id;
  SpanId parent_id;
  uint8_t flags = 0;
  bool sampled() const { return (flags & kSampledFlag) != 0; }
};

// The length of a version-00 traceparent: "00-" 32 hex "-" 16 hex "-" 2 hex.
inline constexpr size_t kTraceParentSize = 55;

// Parses one traceparent value (§3.2). Refuses (nullopt, "treat as absent"): version ff, any
// upper-case or non-hex digit, all-zero trace or parent id, version 00 of any length but 55,
// and a later version shorter than 55 or whose 56th character is not '-' (§3.2.4: a later
// version is read as far as version 00 defines it). Surrounding spaces and tabs are allowed.
std::optional<TraceParent> parse_traceparent(std::string_view value);

// Writes "00-<trace>-<span>-<flags>" into `out` (exactly kTraceParentSize bytes).
void format_traceparent(const TraceId& trace, const SpanId& span, uint8_t flags, char* out);

// Lower-case hex of the id into `out` (32 / 16 bytes).
void to_hex(const TraceId& id, char* out);
void to_hex(const SpanId& id, char* out);

// New ids from the worker's generator: uniform, never all zeroes (no syscall: `random` is the
// worker's own PRNG).
TraceId new_trace_id(Random& random);
SpanId new_span_id(Random& random);

}  // namespace vx::core::trace
