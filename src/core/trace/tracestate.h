// W3C Trace Context `tracestate` (https://www.w3.org/TR/trace-context/#tracestate-header):
// validation only. Vortex adds no member of its own, so a valid tracestate travels on
// unchanged and an invalid one is dropped (treated as absent). Pure.
#pragma once

#include <span>
#include <string_view>

namespace vx::core::trace {

// At most 32 list members (§3.3.1.1); empty members (",,", whitespace only) do not count.
inline constexpr size_t kMaxTraceStateMembers = 32;

// True when the fields (several tracestate fields are one list joined with ',', RFC 9110
// §5.3) form a valid list: each member `key=value` with the spec's key grammar (simple-key, or
// tenant@system) and value grammar (1..256 printable characters without ',' or '=', not ending
// in a space), no key twice, at most kMaxTraceStateMembers members.
bool valid_tracestate(std::span<const std::string_view> fields);

}  // namespace vx::core::trace
