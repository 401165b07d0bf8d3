// What a filter hook tells the pipeline (docs/ports.md has the whole contract), and the set of
// hooks a filter declares it wants. Plain values; no I/O.
#pragma once

#include <cstdint>

namespace vx::core::filter {

// Returned by the head hooks (on_request_head, on_response_head).
enum class FilterStatus : uint8_t {
  Continue,  // go on with the next filter, then the next phase
  Respond,   // stop: the stream answers with the local response the filter set (respond())
  Hold,      // stop until the filter resumes the stream (hold / hold_until); the next filter
             // runs after that
};

// Returned by the body hooks (on_request_body, on_response_body).
enum class BodyStatus : uint8_t {
  Continue,  // the bytes (as the filter left them) go on to the next filter, then the wire
  Buffer,    // keep them: the filter is called again with them and the next bytes together,
             // up to the chain's buffer limit; at the end of the stream this means Continue
  Respond,   // request body only, before any response byte: answer with the local response
};

// The hooks a filter wants called. The pipeline counts them per route and direction: a route
// whose filters want no body hook keeps the zero-copy body relay untouched.
enum class Hook : uint8_t {
  RequestHead = 1 << 0,
  RequestBody = 1 << 1,
  ResponseHead = 1 << 2,
  ResponseBody = 1 << 3,
  Log = 1 << 4,
  // Not a call: on_log reads the response head as it was sent (FilterStream::response()). The
  // pipeline keeps a copy of it only then, since the upstream's buffer is reused by the body.
  LogResponseHead = 1 << 5,
};

class HookSet {
 public:
  constexpr HookSet() = default;
  constexpr HookSet(Hook hook) : bits_(static_cast<uint8_t>(hook)) {}  // NOLINT: a set of one
  constexpr HookSet operator|(HookSet other) const { return HookSet(bits_ | other.bits_); }
  constexpr bool has(Hook hook) const { return (bits_ & static_cast<uint8_t>(hook)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }

 private:
  constexpr explicit HookSet(int bits) : bits_(static_cast<uint8_t>(bits)) {}
  uint8_t bits_ = 0;
};

constexpr HookSet operator|(Hook a, Hook b) {
  return HookSet(a) | HookSet(b);
}

}  // namespace vx::core::filter
