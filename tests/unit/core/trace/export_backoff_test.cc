#include "core/trace/export_backoff.h"

#include <gtest/gtest.h>

namespace vx::core::trace {
namespace {

using std::chrono::milliseconds;
using Action = ExportVerdict::Action;

TEST(ExportBackoffTest, SuccessIsDone) {
  EXPECT_EQ(judge_export({200, {}}, 0, 0).action, Action::Done);
  EXPECT_EQ(judge_export({204, {}}, 3, 0).action, Action::Done);
}

TEST(ExportBackoffTest, RetriesOnlyWhatOtlpCallsRetryable) {
  for (int status : {0, 429, 502, 503, 504}) {
    EXPECT_EQ(judge_export({status, {}}, 0, 0).action, Action::Retry) << status;
  }
  for (int status : {400, 401, 404, 413, 500}) {
    EXPECT_EQ(judge_export({status, {}}, 0, 0).action, Action::Drop) << status;
  }
}

TEST(ExportBackoffTest, BacksOffExponentiallyWithBoundedJitter) {
  milliseconds previous_max{0};
  for (unsigned retries = 0; retries < kMaxExportRetries; ++retries) {
    const auto low = judge_export({503, {}}, retries, 0).delay;
    const auto high = judge_export({503, {}}, retries, ~uint64_t{0} / 2).delay;
    const int64_t base = std::min<int64_t>(250 << retries, 8000);
    EXPECT_GE(low.count(), base * 3 / 4);
    EXPECT_LE(high.count(), base * 5 / 4);
    EXPECT_GE(high, previous_max / 2);
    previous_max = high;
  }
}

TEST(ExportBackoffTest, RetryAfterWinsAndIsCapped) {
  EXPECT_EQ(judge_export({429, milliseconds(3000)}, 0, 0).delay, milliseconds(3000));
  EXPECT_EQ(judge_export({503, milliseconds(3'600'000)}, 0, 0).delay, milliseconds(30'000));
}

TEST(ExportBackoffTest, GivesUpAfterTheLastRetry) {
  EXPECT_EQ(judge_export({503, {}}, kMaxExportRetries, 0).action, Action::Drop);
}

}  // namespace
}  // namespace vx::core::trace
