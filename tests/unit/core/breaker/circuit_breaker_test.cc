#include "core/breaker/circuit_breaker.h"

#include <chrono>

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace vx::core::breaker {
namespace {

using std::chrono::milliseconds;

config::CircuitBreakerSettings settings(uint32_t failures, int open_ms, uint32_t probes) {
  return {.consecutive_failures = failures,
          .open = milliseconds(open_ms),
          .half_open_requests = probes};
}

class CircuitBreakerTest : public ::testing::Test {
 protected:
  // Sends one request and reports its outcome, as the balancer's guard does.
  void send(CircuitBreaker& breaker, bool success) {
    const Admission admission = breaker.admit(clock_.now());
    ASSERT_TRUE(admission);
    breaker.on_result(admission, success, clock_.now());
  }
  void fail_times(CircuitBreaker& breaker, int n) {
    for (int i = 0; i < n; ++i) send(breaker, false);
  }

  test::FakeClock clock_;
};

TEST_F(CircuitBreakerTest, StartsClosedAndAdmitsEverything) {
  CircuitBreaker breaker(settings(5, 5000, 1));
  EXPECT_EQ(breaker.state(clock_.now()), State::Closed);
  for (int i = 0; i < 100; ++i) {
    const Admission admission = breaker.admit(clock_.now());
    EXPECT_TRUE(admission);
    EXPECT_FALSE(admission.is_probe());
  }
}

TEST_F(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndRefusesWhileOpen) {
  CircuitBreaker breaker(settings(3, 5000, 1));
  fail_times(breaker, 2);
  EXPECT_EQ(breaker.state(clock_.now()), State::Closed);
  fail_times(breaker, 1);
  EXPECT_EQ(breaker.state(clock_.now()), State::Open);
  EXPECT_FALSE(breaker.admit(clock_.now()));
  EXPECT_FALSE(breaker.would_admit(clock_.now()));
  clock_.advance(milliseconds(4999));
  EXPECT_EQ(breaker.state(clock_.now()), State::Open);
  EXPECT_FALSE(breaker.admit(clock_.now()));
}

TEST_F(CircuitBreakerTest, SuccessInBetweenResetsTheFailureRun) {
  CircuitBreaker breaker(settings(3, 5000, 1));
  fail_times(breaker, 2);
  send(breaker, true);
  fail_times(breaker, 2);
  EXPECT_EQ(breaker.state(clock_.now()), State::Closed);
  fail_times(breaker, 1);
  EXPECT_EQ(breaker.state(clock_.now()), State::Open);
}

TEST_F(CircuitBreakerTest, BecomesHalfOpenAfterOpenPeriodAndLimitsProbes) {
  CircuitBreaker breaker(settings(1, 5000, 2));
  fail_times(breaker, 1);
  clock_.advance(milliseconds(5001));
  EXPECT_EQ(breaker.state(clock_.now()), State::HalfOpen);
  EXPECT_TRUE(breaker.would_admit(clock_.now()));
  const Admission first = breaker.admit(clock_.now());
  const Admission second = breaker.admit(clock_.now());
  EXPECT_TRUE(first.is_probe());
  EXPECT_TRUE(second.is_probe());
  EXPECT_FALSE(breaker.would_admit(clock_.now()));
  EXPECT_FALSE(breaker.admit(clock_.now()));
  EXPECT_EQ(breaker.state(clock_.now()), State::HalfOpen);
}

TEST_F(CircuitBreakerTest, WouldAdmitTakesNoProbeTicket) {
  CircuitBreaker breaker(settings(1, 100, 1));
  fail_times(breaker, 1);
  clock_.advance(milliseconds(101));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(breaker.would_admit(clock_.now()));
  EXPECT_TRUE(breaker.admit(clock_.now()));
  EXPECT_FALSE(breaker.would_admit(clock_.now()));
}

TEST_F(CircuitBreakerTest, ProbeSuccessCloses) {
  CircuitBreaker breaker(settings(2, 100, 1));
  fail_times(breaker, 2);
  clock_.advance(milliseconds(101));
  const Admission probe = breaker.admit(clock_.now());
  breaker.on_result(probe, true, clock_.now());
  EXPECT_EQ(breaker.state(clock_.now()), State::Closed);
  // The failure run starts again from zero after closing.
  fail_times(breaker, 1);
  EXPECT_EQ(breaker.state(clock_.now()), State::Closed);
}

TEST_F(CircuitBreakerTest, ProbeFailureReopensForAFullOpenPeriodWithFreshTickets) {
  CircuitBreaker breaker(settings(1, 100, 1));
  fail_times(breaker, 1);
  clock_.advance(milliseconds(150));
  const Admission probe = breaker.admit(clock_.now());
  breaker.on_result(probe, false, clock_.now());
  EXPECT_EQ(breaker.state(clock_.now()), State::Open);
  clock_.advance(milliseconds(99));
  EXPECT_EQ(breaker.state(clock_.now()), State::Open);
  clock_.advance(milliseconds(2));
  EXPECT_EQ(breaker.state(clock_.now()), State::HalfOpen);
  EXPECT_TRUE(breaker.admit(clock_.now()).is_probe());
}

TEST_F(CircuitBreakerTest, ResultsOfRequestsSentBeforeOpeningAreIgnored) {
  CircuitBreaker breaker(settings(1, 100, 1));
  const Admission early = breaker.admit(clock_.now());
  fail_times(breaker, 1);
  breaker.on_result(early, true, clock_.now());
  EXPECT_EQ(breaker.state(clock_.now()), State::Open);
  clock_.advance(milliseconds(101));
  breaker.on_result(early, true, clock_.now());
  EXPECT_EQ(breaker.state(clock_.now()), State::HalfOpen);
  breaker.on_result(early, false, clock_.now());
  EXPECT_EQ(breaker.state(clock_.now()), State::HalfOpen);
}

TEST_F(CircuitBreakerTest, ProbeOfAnEarlierOpeningDoesNotDecideTheCurrentOne) {
  CircuitBreaker breaker(settings(1, 100, 2));
  fail_times(breaker, 1);
  clock_.advance(milliseconds(101));
  const Admission failing = breaker.admit(clock_.now());
  const Admission stale = breaker.admit(clock_.now());
  breaker.on_result(failing, false, clock_.now());  // re-opens
  clock_.advance(milliseconds(101));
  breaker.on_result(stale, true, clock_.now());
  EXPECT_EQ(breaker.state(clock_.now()), State::HalfOpen);
}

TEST_F(CircuitBreakerTest, CancelledProbeHandsItsTicketBack) {
  CircuitBreaker breaker(settings(1, 100, 1));
  fail_times(breaker, 1);
  clock_.advance(milliseconds(101));
  const Admission probe = breaker.admit(clock_.now());
  EXPECT_FALSE(breaker.would_admit(clock_.now()));
  breaker.cancel(probe);
  EXPECT_TRUE(breaker.would_admit(clock_.now()));
  breaker.cancel(probe);  // a second cancel must not mint a ticket
  const Admission again = breaker.admit(clock_.now());
  EXPECT_TRUE(again.is_probe());
  EXPECT_FALSE(breaker.admit(clock_.now()));
}

TEST_F(CircuitBreakerTest, CancelOfAProbeFromAnEarlierOpeningIsIgnored) {
  CircuitBreaker breaker(settings(1, 100, 2));
  fail_times(breaker, 1);
  clock_.advance(milliseconds(101));
  const Admission old_probe = breaker.admit(clock_.now());
  const Admission failing = breaker.admit(clock_.now());
  breaker.on_result(failing, false, clock_.now());
  clock_.advance(milliseconds(101));
  EXPECT_TRUE(breaker.admit(clock_.now()));
  EXPECT_TRUE(breaker.admit(clock_.now()));
  breaker.cancel(old_probe);
  EXPECT_FALSE(breaker.admit(clock_.now()));
}

TEST_F(CircuitBreakerTest, ZeroConsecutiveFailuresNeverOpens) {
  CircuitBreaker breaker(settings(0, 100, 1));
  fail_times(breaker, 1000);
  EXPECT_EQ(breaker.state(clock_.now()), State::Closed);
}

TEST_F(CircuitBreakerTest, ZeroHalfOpenRequestsStillLetsOneProbeThrough) {
  CircuitBreaker breaker(settings(1, 100, 0));
  fail_times(breaker, 1);
  clock_.advance(milliseconds(101));
  EXPECT_TRUE(breaker.admit(clock_.now()).is_probe());
  EXPECT_FALSE(breaker.admit(clock_.now()));
}

TEST_F(CircuitBreakerTest, StateValuesMatchTheMetricEncoding) {
  EXPECT_EQ(static_cast<int>(State::Closed), 0);
  EXPECT_EQ(static_cast<int>(State::Open), 1);
  EXPECT_EQ(static_cast<int>(State::HalfOpen), 2);
}

}  // namespace
}  // namespace vx::core::breaker
