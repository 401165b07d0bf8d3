#include "core/lb/endpoint_state.h"

#include <chrono>

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace vx::core::lb {
namespace {

using std::chrono::milliseconds;

config::Endpoint endpoint(std::string address, uint32_t weight = 1) {
  config::Endpoint e;
  e.address.text = std::move(address);
  e.weight = weight;
  e.ai_models = {"gpt-4", "llama"};
  return e;
}

config::Cluster cluster_with_checks(uint32_t unhealthy_after, uint32_t healthy_after) {
  config::Cluster c;
  c.name = "api";
  c.health_check =
      config::HealthCheck{.unhealthy_after = unhealthy_after, .healthy_after = healthy_after};
  c.circuit_breaker = {.consecutive_failures = 1, .open = milliseconds(100)};
  return c;
}

TEST(EndpointStateTest, StartsHealthyIdleAndEligible) {
  test::FakeClock clock;
  EndpointState state(endpoint("10.0.0.1:80", 3), cluster_with_checks(3, 2), clock.now());
  EXPECT_EQ(state.address(), "10.0.0.1:80");
  EXPECT_EQ(state.weight(), 3u);
  EXPECT_TRUE(state.healthy());
  EXPECT_EQ(state.active(), 0u);
  EXPECT_TRUE(state.eligible(clock.now()));
  EXPECT_DOUBLE_EQ(state.score(clock.now()), peak_ewma_score(1.0, 0));
}

TEST(EndpointStateTest, WeightBelowOneCountsAsOne) {
  test::FakeClock clock;
  EndpointState state(endpoint("a:1", 0), config::Cluster{}, clock.now());
  EXPECT_EQ(state.weight(), 1u);
}

TEST(EndpointStateTest, BecomesUnhealthyOnlyAfterUnhealthyAfterFailuresInARow) {
  test::FakeClock clock;
  EndpointState state(endpoint("a:1"), cluster_with_checks(3, 2), clock.now());
  EXPECT_FALSE(state.on_health_check(false));
  EXPECT_FALSE(state.on_health_check(false));
  EXPECT_FALSE(state.on_health_check(true));  // breaks the run
  EXPECT_FALSE(state.on_health_check(false));
  EXPECT_FALSE(state.on_health_check(false));
  EXPECT_TRUE(state.healthy());
  EXPECT_TRUE(state.on_health_check(false));
  EXPECT_FALSE(state.healthy());
  EXPECT_FALSE(state.eligible(clock.now()));
  EXPECT_FALSE(state.on_health_check(false));  // already unhealthy: no second flip
}

TEST(EndpointStateTest, ReturnsToHealthyAfterHealthyAfterSuccessesInARow) {
  test::FakeClock clock;
  EndpointState state(endpoint("a:1"), cluster_with_checks(1, 2), clock.now());
  EXPECT_TRUE(state.on_health_check(false));
  EXPECT_FALSE(state.on_health_check(true));
  EXPECT_FALSE(state.on_health_check(false));
  EXPECT_FALSE(state.on_health_check(true));
  EXPECT_FALSE(state.healthy());
  EXPECT_TRUE(state.on_health_check(true));
  EXPECT_TRUE(state.healthy());
  EXPECT_TRUE(state.eligible(clock.now()));
}

TEST(EndpointStateTest, OpenBreakerMakesItIneligibleUntilHalfOpen) {
  test::FakeClock clock;
  EndpointState state(endpoint("a:1"), cluster_with_checks(3, 2), clock.now());
  const auto admission = state.breaker().admit(clock.now());
  state.breaker().on_result(admission, false, clock.now());
  EXPECT_FALSE(state.eligible(clock.now()));
  clock.advance(milliseconds(101));
  EXPECT_TRUE(state.eligible(clock.now()));
  EXPECT_TRUE(state.eligible(clock.now()));  // asking takes no probe ticket
}

TEST(EndpointStateTest, ServesOnlyItsListedModels) {
  test::FakeClock clock;
  EndpointState state(endpoint("a:1"), config::Cluster{}, clock.now());
  EXPECT_TRUE(state.serves_model("gpt-4"));
  EXPECT_TRUE(state.serves_model("llama"));
  EXPECT_FALSE(state.serves_model("gpt-3"));
  EXPECT_FALSE(state.serves_model(""));
}

}  // namespace
}  // namespace vx::core::lb
