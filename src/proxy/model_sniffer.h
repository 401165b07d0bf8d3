// Finds the AI model a request names in its JSON body: the top-level "model" field (SPEC.md §2
// routes[].match.ai_model and clusters[].model_routing, "JSON body read up to 64 KiB"). Pure
// parsing over the body's first bytes; allocates nothing; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vx::proxy {

// How much of a body is read, at most, looking for the model before the request is routed.
inline constexpr size_t kModelSniffBytes = 64 * 1024;

enum class SniffStatus : uint8_t {
  Found,     // model holds the value
  NotFound,  // the body is not a JSON object, or its top level has no usable "model" string
  NeedMore,  // the prefix ends before the answer is known; call again with more bytes
};

struct SniffResult {
  SniffStatus status = SniffStatus::NotFound;
  std::string_view model;  // Found: a view into the bytes given, valid while they are
};

// Scans `body_prefix`, the first bytes of a request body, for the top-level "model" member of a
// JSON object. `complete` says the prefix is the whole body (or all that will be looked at:
// kModelSniffBytes), which turns NeedMore into NotFound. Nested "model" keys (inside
// "messages", say) do not count; the first top-level "model" wins. Refuses (NotFound) a model
// that is not a string, is empty or holds escapes (model names are plain; decoding would need
// a copy), and a key spelled with escapes. Never reads past body_prefix; O(n).
SniffResult sniff_model(std::string_view body_prefix, bool complete);

}  // namespace vx::proxy
