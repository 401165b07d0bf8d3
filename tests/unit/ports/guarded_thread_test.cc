#include "ports/guarded_thread.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>

namespace vx::ports {
namespace {

class RunGuardedThreadTest : public ::testing::Test {
 protected:
  void SetUp() override { ContainedFailures::reset_for_test(); }
};

TEST_F(RunGuardedThreadTest, ABodyThatThrowsIsCountedAndRunAgainUntilItReturns) {
  int runs = 0;
  ::testing::internal::CaptureStderr();
  std::thread thread([&] {
    run_guarded_thread(TaskKind::BanSweeperThread, [&] {
      if (++runs < 3) throw std::runtime_error("sweep failed");
    });
  });
  thread.join();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "vortex: ban_sweeper_thread task failed: sweep failed (contained; 1 so far)\n");
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(ContainedFailures::count(TaskKind::BanSweeperThread), 2u);
}

TEST_F(RunGuardedThreadTest, ABodyThatReturnsRunsOnceAndIsNotCounted) {
  int runs = 0;
  run_guarded_thread(TaskKind::MetricsServerThread, [&] { ++runs; });
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(ContainedFailures::count(TaskKind::MetricsServerThread), 0u);
}

}  // namespace
}  // namespace vx::ports
