#include "core/lb/active_request.h"

#include <chrono>
#include <optional>
#include <utility>

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace vx::core::lb {
namespace {

using std::chrono::milliseconds;

class ActiveRequestTest : public ::testing::Test {
 protected:
  static config::Cluster cluster() {
    config::Cluster c;
    c.peak_ewma = {.decay = milliseconds(10000), .default_rtt = milliseconds(1)};
    c.circuit_breaker = {.consecutive_failures = 2, .open = milliseconds(100)};
    return c;
  }
  static config::Endpoint endpoint() {
    config::Endpoint e;
    e.address.text = "10.0.0.1:80";
    return e;
  }
  ActiveRequest start() {
    return ActiveRequest(state_, state_.breaker().admit(clock_.now()), clock_.now());
  }

  test::FakeClock clock_;
  EndpointState state_{endpoint(), cluster(), clock_.now()};
};

TEST_F(ActiveRequestTest, CountsAsActiveFromAssignmentUntilFinished) {
  ActiveRequest request = start();
  EXPECT_EQ(state_.active(), 1u);
  clock_.advance(milliseconds(30));
  request.finish(Outcome::Success, clock_.now());
  EXPECT_EQ(state_.active(), 0u);
  EXPECT_TRUE(request.ended());
}

TEST_F(ActiveRequestTest, SuccessRecordsTheElapsedLatency) {
  ActiveRequest request = start();
  clock_.advance(milliseconds(30));
  request.finish(Outcome::Success, clock_.now());
  EXPECT_DOUBLE_EQ(state_.latency().value_ms_at(clock_.now()), 30.0);
}

TEST_F(ActiveRequestTest, FastFailureRecordsThePenaltyAndFeedsTheBreaker) {
  ActiveRequest first = start();
  ActiveRequest second = start();
  clock_.advance(std::chrono::microseconds(50));  // connection refused: very fast
  first.finish(Outcome::Failure, clock_.now());
  const double penalty_ms = std::chrono::duration<double, std::milli>(kFailurePenalty).count();
  EXPECT_DOUBLE_EQ(state_.latency().value_ms_at(clock_.now()), penalty_ms);
  EXPECT_EQ(state_.breaker().state(clock_.now()), breaker::State::Closed);
  second.finish(Outcome::Failure, clock_.now());
  EXPECT_EQ(state_.breaker().state(clock_.now()), breaker::State::Open);
}

TEST_F(ActiveRequestTest, SlowFailureRecordsItsOwnLatencyWhenAbovePenalty) {
  ActiveRequest request = start();
  clock_.advance(std::chrono::seconds(15));  // a route timeout
  request.finish(Outcome::Failure, clock_.now());
  EXPECT_DOUBLE_EQ(state_.latency().value_ms_at(clock_.now()), 15000.0);
}

TEST_F(ActiveRequestTest, SecondFinishIsIgnored) {
  ActiveRequest request = start();
  clock_.advance(milliseconds(5));
  request.finish(Outcome::Success, clock_.now());
  request.finish(Outcome::Failure, clock_.now());
  EXPECT_EQ(state_.active(), 0u);
  EXPECT_DOUBLE_EQ(state_.latency().value_ms_at(clock_.now()), 5.0);
}

TEST_F(ActiveRequestTest, DestructorWithoutFinishReleasesActiveAndRecordsNothing) {
  {
    ActiveRequest request = start();
    clock_.advance(milliseconds(500));
  }
  EXPECT_EQ(state_.active(), 0u);
  EXPECT_DOUBLE_EQ(state_.latency().value_ms_at(clock_.now()), 1.0);
}

TEST_F(ActiveRequestTest, CancelRecordsALongWaitAsAPeakButNotAsAFailure) {
  for (int i = 0; i < 3; ++i) {
    ActiveRequest request = start();
    clock_.advance(milliseconds(200));
    request.cancel(clock_.now());
  }
  EXPECT_EQ(state_.active(), 0u);
  EXPECT_GE(state_.latency().value_ms_at(clock_.now()), 200.0);
  EXPECT_EQ(state_.breaker().state(clock_.now()), breaker::State::Closed);
}

TEST_F(ActiveRequestTest, CancelledHalfOpenProbeHandsItsTicketBack) {
  ActiveRequest a = start();
  ActiveRequest b = start();
  a.finish(Outcome::Failure, clock_.now());
  b.finish(Outcome::Failure, clock_.now());
  clock_.advance(milliseconds(101));
  {
    ActiveRequest probe = start();
    EXPECT_TRUE(probe.admission().is_probe());
    EXPECT_FALSE(state_.eligible(clock_.now()));
  }
  EXPECT_TRUE(state_.eligible(clock_.now()));
}

TEST_F(ActiveRequestTest, MovedFromGuardDoesNotEndTheRequest) {
  std::optional<ActiveRequest> holder;
  {
    ActiveRequest request = start();
    holder.emplace(std::move(request));
    EXPECT_TRUE(request.ended());
  }
  EXPECT_EQ(state_.active(), 1u);
  holder.reset();
  EXPECT_EQ(state_.active(), 0u);
}

TEST_F(ActiveRequestTest, MoveAssignmentEndsTheOverwrittenRequest) {
  ActiveRequest first = start();
  ActiveRequest second = start();
  EXPECT_EQ(state_.active(), 2u);
  first = std::move(second);
  EXPECT_EQ(state_.active(), 1u);
  first.finish(Outcome::Success, clock_.now());
  EXPECT_EQ(state_.active(), 0u);
}

}  // namespace
}  // namespace vx::core::lb

namespace vx::core::lb {
namespace {

TEST_F(ActiveRequestTest, ResponseHeadRecordsTheLatencyAndTheStreamedBodyDoesNot) {
  ActiveRequest request = start();
  clock_.advance(milliseconds(20));
  request.on_response_head(clock_.now());
  EXPECT_DOUBLE_EQ(state_.latency().value_ms_at(clock_.now()), 20.0);
  EXPECT_EQ(state_.active(), 1u);  // still streaming its body
  clock_.advance(milliseconds(5000));
  request.finish(Outcome::Success, clock_.now());
  EXPECT_EQ(state_.active(), 0u);
  EXPECT_LT(state_.latency().value_ms_at(clock_.now()), 20.0);  // decayed, no 5 s peak
}

TEST_F(ActiveRequestTest, AFailureAfterTheHeadStillRecordsThePenalty) {
  ActiveRequest request = start();
  request.on_response_head(clock_.now());
  request.finish(Outcome::Failure, clock_.now());
  EXPECT_DOUBLE_EQ(state_.latency().value_ms_at(clock_.now()), 1000.0);
}

TEST_F(ActiveRequestTest, ARequestWaitingForItsHeadRaisesTheScoreAsItAges) {
  ActiveRequest waiting = start();
  EXPECT_DOUBLE_EQ(state_.pending_age_ms(clock_.now()), 0.0);
  clock_.advance(milliseconds(30));
  EXPECT_DOUBLE_EQ(state_.pending_age_ms(clock_.now()), 30.0);
  // Estimate 1 ms (default_rtt), but one request has waited 30 ms: the endpoint is that slow.
  EXPECT_DOUBLE_EQ(state_.score(clock_.now()), peak_ewma_score(30.0, 1));
  ActiveRequest fresh = start();
  EXPECT_DOUBLE_EQ(state_.pending_age_ms(clock_.now()), 15.0);  // the mean of 30 and 0
  waiting.on_response_head(clock_.now());
  EXPECT_DOUBLE_EQ(state_.pending_age_ms(clock_.now()), 0.0);  // only `fresh` waits, since now
  fresh.finish(Outcome::Success, clock_.now());
  waiting.finish(Outcome::Success, clock_.now());
  EXPECT_DOUBLE_EQ(state_.pending_age_ms(clock_.now()), 0.0);
  EXPECT_EQ(state_.active(), 0u);
}

TEST_F(ActiveRequestTest, EveryWayOfEndingStopsTheWait) {
  {
    ActiveRequest dropped = start();
    ActiveRequest cancelled = start();
    ActiveRequest moved_over = start();
    clock_.advance(milliseconds(10));
    cancelled.cancel(clock_.now());
    moved_over = start();  // ends the first request it held
  }
  clock_.advance(milliseconds(10));
  EXPECT_EQ(state_.active(), 0u);
  EXPECT_DOUBLE_EQ(state_.pending_age_ms(clock_.now()), 0.0);
}

}  // namespace
}  // namespace vx::core::lb
