#include "ports/contained_failures.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace vx::ports {
namespace {

std::exception_ptr failure(const char* what) {
  return std::make_exception_ptr(std::runtime_error(what));
}

class ContainedFailuresTest : public ::testing::Test {
 protected:
  void SetUp() override { ContainedFailures::reset_for_test(); }
};

TEST_F(ContainedFailuresTest, CountsEveryFailureButLogsOncePerSecondPerKind) {
  ::testing::internal::CaptureStderr();
  ContainedFailures::record(TaskKind::Stream, failure("first"));
  ContainedFailures::record(TaskKind::Stream, failure("second"));
  ContainedFailures::record(TaskKind::HealthProbe, failure("other kind"));
  const std::string log = ::testing::internal::GetCapturedStderr();

  EXPECT_EQ(ContainedFailures::count(TaskKind::Stream), 2u);
  EXPECT_EQ(ContainedFailures::count(TaskKind::HealthProbe), 1u);
  EXPECT_EQ(ContainedFailures::count(TaskKind::Connection), 0u);
  EXPECT_EQ(log,
            "vortex: stream task failed: first (contained; 1 so far)\n"
            "vortex: health_probe task failed: other kind (contained; 1 so far)\n");
}

TEST_F(ContainedFailuresTest, AFailureThatIsNoStdExceptionIsLoggedWithoutWhat) {
  ::testing::internal::CaptureStderr();
  ContainedFailures::record(TaskKind::WorkerThread, std::make_exception_ptr(42));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "vortex: worker_thread task failed (contained; 1 so far)\n");
  EXPECT_EQ(ContainedFailures::count(TaskKind::WorkerThread), 1u);
}

TEST_F(ContainedFailuresTest, NoExceptionCountsNothing) {
  ContainedFailures::record(TaskKind::Connection, nullptr);
  EXPECT_EQ(ContainedFailures::count(TaskKind::Connection), 0u);
}

}  // namespace
}  // namespace vx::ports
