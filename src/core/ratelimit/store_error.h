// Why a rate-limit store could not decide. The caller applies rate_limits.redis.on_error
// (allow or deny) and counts decision="error". Value type.
#pragma once

#include <cstdint>
#include <string_view>

namespace vx::core::ratelimit {

enum class StoreError : uint8_t {
  Unavailable,  // no connection to the store (down, connecting or backing off)
  Timeout,      // no answer within timeout_ms; a late answer is dropped
  BadReply,     // the store answered something the script cannot have returned
  ScriptError,  // the store refused the script (e.g. an error reply other than NOSCRIPT)
};

constexpr std::string_view to_string(StoreError e) {
  switch (e) {
    case StoreError::Unavailable:
      return "unavailable";
    case StoreError::Timeout:
      return "timeout";
    case StoreError::BadReply:
      return "bad reply";
    case StoreError::ScriptError:
      return "script error";
  }
  return "unknown";
}

}  // namespace vx::core::ratelimit
