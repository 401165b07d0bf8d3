#include "core/trace/export_backoff.h"

#include <algorithm>

namespace vx::core::trace {

namespace {

bool retryable(int status) {
  return status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
}

}  // namespace

ExportVerdict judge_export(const ExportAttempt& attempt, unsigned retries, uint64_t jitter) {
  using std::chrono::milliseconds;
  if (attempt.http_status >= 200 && attempt.http_status < 300) return {};
  if (!retryable(attempt.http_status) || retries >= kMaxExportRetries) {
    return {ExportVerdict::Action::Drop, milliseconds(0)};
  }
  if (attempt.retry_after) {
    return {ExportVerdict::Action::Retry,
            std::clamp(*attempt.retry_after, milliseconds(0), milliseconds(30'000))};
  }
  const int64_t base = std::min<int64_t>(int64_t{250} << std::min(retries, 5u), 8'000);
  const int64_t spread = base / 4;
  const int64_t delay = base - spread + static_cast<int64_t>(jitter % (2 * spread + 1));
  return {ExportVerdict::Action::Retry, milliseconds(delay)};
}

}  // namespace vx::core::trace
