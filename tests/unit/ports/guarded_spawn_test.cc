#include "ports/guarded_spawn.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <stdexcept>
#include <string>

namespace vx::ports {
namespace {

Awaitable<void> throws(const char* what) {
  co_await yield_after_send(co_await boost::asio::this_coro::executor);
  throw std::runtime_error(what);
}

Awaitable<void> finishes() {
  co_await yield_after_send(co_await boost::asio::this_coro::executor);
}

// Waits until cancelled; its next co_await then throws operation_aborted, as any coroutine does.
Awaitable<void> waits_forever() {
  boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                    boost::asio::wait_traits<std::chrono::steady_clock>, Executor>
      timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    timer.expires_at(std::chrono::steady_clock::time_point::max());
    co_await timer.async_wait(kUseTuple);
  }
}

class SpawnGuardedTest : public ::testing::Test {
 protected:
  void SetUp() override { ContainedFailures::reset_for_test(); }
  boost::asio::io_context io_;
  int done_ = 0;
};

TEST_F(SpawnGuardedTest, AThrowingTaskIsCountedAndLoggedOnceAndItsCompletionRuns) {
  ::testing::internal::CaptureStderr();
  spawn_guarded(io_.get_executor(), throws("boom"), TaskKind::Connection, [this] { ++done_; });
  io_.run();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "vortex: connection task failed: boom (contained; 1 so far)\n");
  EXPECT_EQ(ContainedFailures::count(TaskKind::Connection), 1u);
  EXPECT_EQ(done_, 1);
}

TEST_F(SpawnGuardedTest, ATaskThatFinishesIsNotCounted) {
  ::testing::internal::CaptureStderr();
  spawn_guarded(io_.get_executor(), finishes(), TaskKind::Connection, [this] { ++done_; });
  spawn_guarded(io_.get_executor(), finishes(), TaskKind::Stream);
  io_.run();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(ContainedFailures::count(TaskKind::Connection), 0u);
  EXPECT_EQ(ContainedFailures::count(TaskKind::Stream), 0u);
  EXPECT_EQ(done_, 1);
}

TEST_F(SpawnGuardedTest, AFailureStaysInsideItsTaskAndTheLoopGoesOn) {
  ::testing::internal::CaptureStderr();
  spawn_guarded(io_.get_executor(), throws("one"), TaskKind::Stream, [this] { ++done_; });
  spawn_guarded(io_.get_executor(), finishes(), TaskKind::Stream, [this] { ++done_; });
  spawn_guarded(io_.get_executor(), throws("two"), TaskKind::Stream, [this] { ++done_; });
  EXPECT_NO_THROW(io_.run());
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log, "vortex: stream task failed: one (contained; 1 so far)\n");  // rate-limited
  EXPECT_EQ(ContainedFailures::count(TaskKind::Stream), 2u);
  EXPECT_EQ(done_, 3);
}

TEST_F(SpawnGuardedTest, ACancellationAskedForIsNoFailure) {
  boost::asio::cancellation_signal stop;
  spawn_guarded_cancellable(io_.get_executor(), waits_forever(), TaskKind::RequestBodyPump,
                            stop.slot(), [this] { ++done_; });
  boost::asio::post(io_, [&] { stop.emit(boost::asio::cancellation_type::terminal); });
  io_.run();
  EXPECT_EQ(ContainedFailures::count(TaskKind::RequestBodyPump), 0u);
  EXPECT_EQ(done_, 1);
}

TEST_F(SpawnGuardedTest, ACancellableTaskThatThrowsIsStillCounted) {
  ::testing::internal::CaptureStderr();
  boost::asio::cancellation_signal stop;
  spawn_guarded_cancellable(io_.get_executor(), throws("pump broke"), TaskKind::RequestBodyPump,
                            stop.slot(), [this] { ++done_; });
  io_.run();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "vortex: request_body_pump task failed: pump broke (contained; 1 so far)\n");
  EXPECT_EQ(ContainedFailures::count(TaskKind::RequestBodyPump), 1u);
  EXPECT_EQ(done_, 1);
}

}  // namespace
}  // namespace vx::ports
