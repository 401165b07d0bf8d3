// When to send an OTLP export again (OTLP specification, "OTLP/HTTP Throttling" and
// "Failures"): only 429, 502, 503 and 504 and transport failures are retryable; the server's
// Retry-After wins over the exponential backoff; the rest (400, 413, ...) drop the batch. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace vx::core::trace {

struct ExportAttempt {
  int http_status = 0;  // 0: no response (refused, timed out, reset)
  std::optional<std::chrono::milliseconds> retry_after;
};

struct ExportVerdict {
  enum class Action : uint8_t { Done, Retry, Drop };
  Action action = Action::Done;
  std::chrono::milliseconds delay{0};
};

// Exponential backoff from 250 ms, doubling to at most 8 s, with up to 25 % jitter taken from
// `jitter` (any value; a uniform random number); Retry-After capped at 30 s. A batch is
// dropped after kMaxExportRetries retries: the queue behind it is bounded and keeps filling.
inline constexpr unsigned kMaxExportRetries = 5;

// `retries`: how many times this batch was already sent again.
ExportVerdict judge_export(const ExportAttempt& attempt, unsigned retries, uint64_t jitter);

}  // namespace vx::core::trace
