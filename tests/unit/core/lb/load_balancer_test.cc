#include "core/lb/load_balancer.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/seeded_random.h"

namespace vx::core::lb {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct EndpointSpec {
  std::string address;
  uint32_t weight = 1;
  std::vector<std::string> models = {};
};

config::Cluster make_cluster(config::LbPolicy policy, std::vector<EndpointSpec> specs,
                             bool model_routing = false) {
  config::Cluster c;
  c.name = "api";
  c.lb = policy;
  c.model_routing = model_routing;
  c.peak_ewma = {.decay = milliseconds(10000), .default_rtt = milliseconds(1)};
  c.circuit_breaker = {
      .consecutive_failures = 1, .open = milliseconds(100), .half_open_requests = 1};
  c.health_check = config::HealthCheck{.unhealthy_after = 1, .healthy_after = 1};
  for (auto& spec : specs) {
    config::Endpoint e;
    e.address.text = spec.address;
    e.weight = spec.weight;
    e.ai_models = spec.models;
    c.endpoints.push_back(std::move(e));
  }
  return c;
}

class LoadBalancerTest : public ::testing::Test {
 protected:
  PickContext context(std::string_view model = {}, const EndpointState* exclude = nullptr) {
    return {.now = clock_.now(), .random = random_, .model = model, .exclude = exclude};
  }
  // Picks n times, finishing each request at once (zero elapsed time leaves the estimates as
  // they are), and counts the addresses chosen.
  std::map<std::string, int> pick_counts(LoadBalancer& lb, int n, std::string_view model = {}) {
    std::map<std::string, int> counts;
    for (int i = 0; i < n; ++i) {
      auto picked = lb.pick(context(model));
      if (!picked) {
        ++counts["<none>"];
        continue;
      }
      ++counts[picked->endpoint().address()];
      picked->finish(Outcome::Success, clock_.now());
    }
    return counts;
  }
  void open_breaker(EndpointState& e) {
    const auto admission = e.breaker().admit(clock_.now());
    e.breaker().on_result(admission, false, clock_.now());
  }

  test::FakeClock clock_;
  test::SeededRandom random_;
};

TEST_F(LoadBalancerTest, EndpointsAreListedInConfigOrderAndFoundByAddress) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}, {"b:1"}}), clock_.now());
  ASSERT_EQ(lb.endpoints().size(), 2u);
  EXPECT_EQ(lb.endpoints()[0]->address(), "a:1");
  EXPECT_EQ(lb.endpoints()[1]->address(), "b:1");
  EXPECT_EQ(lb.find("b:1"), lb.endpoints()[1]);
  EXPECT_EQ(lb.find("c:1"), nullptr);
  EXPECT_EQ(lb.cluster_name(), "api");
}

TEST_F(LoadBalancerTest, PeakEwmaNeverPicksTheSlowEndpointWhileTwoFastOnesAreIdle) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}, {"slow:1"}, {"c:1"}}),
                  clock_.now());
  lb.find("slow:1")->latency().observe(milliseconds(50), clock_.now());
  const auto counts = pick_counts(lb, 3000);
  EXPECT_EQ(counts.count("slow:1"), 0u);
  EXPECT_NEAR(counts.at("a:1"), 1500, 150);
  EXPECT_NEAR(counts.at("c:1"), 1500, 150);
}

TEST_F(LoadBalancerTest, PeakEwmaWeighsRequestsInFlightAgainstLatency) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"fast:1"}, {"slow:1"}}), clock_.now());
  lb.find("slow:1")->latency().observe(milliseconds(10), clock_.now());
  // Scores: fast (1+1)(a+1) against slow (10+1)(b+1). Held requests raise a and b.
  std::vector<ActiveRequest> held;
  for (int i = 0; i < 11; ++i) {
    auto picked = lb.pick(context());
    ASSERT_TRUE(picked);
    held.push_back(std::move(*picked));
  }
  EXPECT_EQ(lb.find("fast:1")->active(), 10u);
  EXPECT_EQ(lb.find("slow:1")->active(), 1u);
}

TEST_F(LoadBalancerTest, PeakEwmaSplitsEqualScoresByWeight) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"heavy:1", 3}, {"light:1", 1}}),
                  clock_.now());
  const auto counts = pick_counts(lb, 40000);
  EXPECT_NEAR(counts.at("heavy:1") / 40000.0, 0.75, 0.02);
}

TEST_F(LoadBalancerTest, PenalisedEndpointIsProbedAgainAfterIdling) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}, {"b:1"}}), clock_.now());
  EndpointState* a = lb.find("a:1");
  EndpointState* b = lb.find("b:1");
  a->latency().observe(seconds(1), clock_.now());  // a failure penalty
  b->latency().observe(milliseconds(5), clock_.now());
  EXPECT_EQ(pick_counts(lb, 100).count("a:1"), 0u);
  clock_.advance(seconds(120));
  b->latency().observe(milliseconds(5), clock_.now());  // b keeps serving at 5 ms
  auto picked = lb.pick(context());
  ASSERT_TRUE(picked);
  EXPECT_EQ(&picked->endpoint(), a);
}

TEST_F(LoadBalancerTest, LeastRequestBalancesRequestsInFlight) {
  LoadBalancer lb(make_cluster(config::LbPolicy::LeastRequest, {{"a:1"}, {"b:1"}}), clock_.now());
  lb.find("b:1")->latency().observe(milliseconds(500), clock_.now());  // ignored by this policy
  std::vector<ActiveRequest> held;
  for (int i = 0; i < 10; ++i) held.push_back(std::move(*lb.pick(context())));
  EXPECT_EQ(lb.find("a:1")->active(), 5u);
  EXPECT_EQ(lb.find("b:1")->active(), 5u);
}

TEST_F(LoadBalancerTest, RoundRobinFollowsNginxSmoothOrder) {
  LoadBalancer lb(make_cluster(config::LbPolicy::RoundRobin, {{"a", 5}, {"b", 1}, {"c", 1}}),
                  clock_.now());
  std::string order;
  for (int i = 0; i < 14; ++i) {
    auto picked = lb.pick(context());
    ASSERT_TRUE(picked);
    order += picked->endpoint().address();
  }
  EXPECT_EQ(order, "aabacaaaabacaa");
}

TEST_F(LoadBalancerTest, RoundRobinSkipsIneligibleEndpoints) {
  LoadBalancer lb(make_cluster(config::LbPolicy::RoundRobin, {{"a", 5}, {"b", 1}, {"c", 1}}),
                  clock_.now());
  lb.find("b")->on_health_check(false);
  const auto counts = pick_counts(lb, 70);
  EXPECT_EQ(counts.count("b"), 0u);
  EXPECT_EQ(counts.at("c"), 10);
  EXPECT_EQ(counts.at("a"), 60);
}

TEST_F(LoadBalancerTest, RandomFollowsWeights) {
  LoadBalancer lb(make_cluster(config::LbPolicy::Random, {{"a:1", 1}, {"b:1", 3}}), clock_.now());
  const auto counts = pick_counts(lb, 40000);
  EXPECT_NEAR(counts.at("b:1") / 40000.0, 0.75, 0.02);
}

TEST_F(LoadBalancerTest, ModelRoutingPicksOnlyEndpointsServingTheModel) {
  LoadBalancer lb(
      make_cluster(config::LbPolicy::PeakEwma,
                   {{"a:1", 1, {"gpt-4"}}, {"b:1", 1, {"llama"}}, {"c:1", 1, {"gpt-4", "llama"}}},
                   /*model_routing=*/true),
      clock_.now());
  const auto gpt = pick_counts(lb, 1000, "gpt-4");
  EXPECT_EQ(gpt.count("b:1"), 0u);
  EXPECT_GT(gpt.at("a:1"), 300);
  EXPECT_GT(gpt.at("c:1"), 300);
  const auto llama = pick_counts(lb, 1000, "llama");
  EXPECT_EQ(llama.count("a:1"), 0u);
  EXPECT_FALSE(lb.pick(context("gpt-3")));
  EXPECT_FALSE(lb.pick(context("")));
}

TEST_F(LoadBalancerTest, WithoutModelRoutingTheModelIsIgnored) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"a:1", 1, {"gpt-4"}}}), clock_.now());
  EXPECT_TRUE(lb.pick(context("llama")));
}

TEST_F(LoadBalancerTest, NoEligibleEndpointGivesNothingForEveryPolicy) {
  for (auto policy : {config::LbPolicy::PeakEwma, config::LbPolicy::LeastRequest,
                      config::LbPolicy::RoundRobin, config::LbPolicy::Random}) {
    LoadBalancer lb(make_cluster(policy, {{"a:1"}, {"b:1"}, {"c:1"}}), clock_.now());
    lb.find("a:1")->on_health_check(false);
    open_breaker(*lb.find("b:1"));
    lb.find("c:1")->on_health_check(false);
    EXPECT_FALSE(lb.pick(context())) << static_cast<int>(policy);
    EXPECT_EQ(lb.find("b:1")->active(), 0u);
  }
}

TEST_F(LoadBalancerTest, EmptyClusterGivesNothing) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {}), clock_.now());
  EXPECT_FALSE(lb.pick(context()));
}

TEST_F(LoadBalancerTest, OpenEndpointGetsOneProbeAfterOpenPeriod) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}}), clock_.now());
  open_breaker(*lb.find("a:1"));
  EXPECT_FALSE(lb.pick(context()));
  clock_.advance(milliseconds(101));
  auto probe = lb.pick(context());
  ASSERT_TRUE(probe);
  EXPECT_TRUE(probe->admission().is_probe());
  EXPECT_FALSE(lb.pick(context()));  // half_open_requests: 1
  probe->finish(Outcome::Success, clock_.now());
  EXPECT_TRUE(lb.pick(context()));
}

TEST_F(LoadBalancerTest, OnlyHealthyEndpointOfAMostlySickGroupIsFound) {
  std::vector<EndpointSpec> specs;
  for (int i = 0; i < 16; ++i) specs.push_back({"e" + std::to_string(i) + ":1"});
  for (auto policy : {config::LbPolicy::PeakEwma, config::LbPolicy::LeastRequest,
                      config::LbPolicy::RoundRobin, config::LbPolicy::Random}) {
    LoadBalancer lb(make_cluster(policy, specs), clock_.now());
    for (EndpointState* e : lb.endpoints()) {
      if (e->address() != "e7:1") e->on_health_check(false);
    }
    const auto counts = pick_counts(lb, 200);
    EXPECT_EQ(counts.at("e7:1"), 200) << static_cast<int>(policy);
  }
}

TEST_F(LoadBalancerTest, ExcludedEndpointIsAvoidedWhileAnotherIsEligible) {
  for (auto policy : {config::LbPolicy::PeakEwma, config::LbPolicy::LeastRequest,
                      config::LbPolicy::RoundRobin, config::LbPolicy::Random}) {
    LoadBalancer lb(make_cluster(policy, {{"a:1"}, {"b:1"}, {"c:1"}}), clock_.now());
    const EndpointState* a = lb.find("a:1");
    for (int i = 0; i < 200; ++i) {
      auto picked = lb.pick(context({}, a));
      ASSERT_TRUE(picked);
      EXPECT_NE(&picked->endpoint(), a) << static_cast<int>(policy);
    }
  }
}

TEST_F(LoadBalancerTest, ExcludedEndpointIsUsedWhenItIsTheOnlyEligibleOne) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}, {"b:1"}}), clock_.now());
  const EndpointState* a = lb.find("a:1");
  lb.find("b:1")->on_health_check(false);
  auto picked = lb.pick(context({}, a));
  ASSERT_TRUE(picked);
  EXPECT_EQ(&picked->endpoint(), a);
}

TEST_F(LoadBalancerTest, PickedRequestCountsAsActiveUntilFinished) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}}), clock_.now());
  auto picked = lb.pick(context());
  ASSERT_TRUE(picked);
  EXPECT_EQ(lb.find("a:1")->active(), 1u);
  clock_.advance(milliseconds(20));
  picked->finish(Outcome::Success, clock_.now());
  EXPECT_EQ(lb.find("a:1")->active(), 0u);
  EXPECT_DOUBLE_EQ(lb.find("a:1")->latency().value_ms_at(clock_.now()), 20.0);
}

class LoadBalancerReloadTest : public LoadBalancerTest {};

TEST_F(LoadBalancerReloadTest, UnchangedEndpointKeepsItsBreakerEstimateAndRequestsInFlight) {
  const auto cluster = make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}, {"b:1"}});
  auto old_lb = std::make_unique<LoadBalancer>(cluster, clock_.now());
  open_breaker(*old_lb->find("a:1"));
  old_lb->find("b:1")->latency().observe(milliseconds(40), clock_.now());
  auto in_flight = old_lb->pick(context());
  ASSERT_TRUE(in_flight);
  EXPECT_EQ(&in_flight->endpoint(), old_lb->find("b:1"));

  LoadBalancer new_lb(cluster, clock_.now(), old_lb.get());
  old_lb.reset();
  EXPECT_EQ(new_lb.find("a:1")->breaker().state(clock_.now()), breaker::State::Open);
  EXPECT_DOUBLE_EQ(new_lb.find("b:1")->latency().value_ms_at(clock_.now()), 40.0);
  EXPECT_EQ(new_lb.find("b:1")->active(), 1u);
  in_flight->finish(Outcome::Success, clock_.now());
  EXPECT_EQ(new_lb.find("b:1")->active(), 0u);
}

TEST_F(LoadBalancerReloadTest, ChangedEndpointOrSettingsStartFresh) {
  auto cluster = make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}, {"b:1"}});
  LoadBalancer old_lb(cluster, clock_.now());
  open_breaker(*old_lb.find("a:1"));
  open_breaker(*old_lb.find("b:1"));

  cluster.endpoints[1].weight = 2;
  LoadBalancer reweighted(cluster, clock_.now(), &old_lb);
  EXPECT_EQ(reweighted.find("a:1"), old_lb.find("a:1"));
  EXPECT_NE(reweighted.find("b:1"), old_lb.find("b:1"));
  EXPECT_EQ(reweighted.find("b:1")->breaker().state(clock_.now()), breaker::State::Closed);

  cluster.circuit_breaker.open = milliseconds(500);
  LoadBalancer retuned(cluster, clock_.now(), &old_lb);
  EXPECT_NE(retuned.find("a:1"), old_lb.find("a:1"));
}

}  // namespace
}  // namespace vx::core::lb

namespace vx::core::lb {
namespace {

TEST_F(LoadBalancerTest, PeakEwmaStopsPickingAnEndpointWhoseRequestIsStuck) {
  LoadBalancer lb(make_cluster(config::LbPolicy::PeakEwma, {{"a:1"}, {"b:1"}}), clock_.now());
  EndpointState* a = lb.find("a:1");
  EndpointState* b = lb.find("b:1");
  // One request on each, both estimates 1 ms: a's is streaming its body, b's has had no answer
  // for 40 ms. By estimates and counts alone they tie at (1 + 1)(1 + 1); the wait makes b
  // (40 + 1)(1 + 1) long before its 40 ms answer lands.
  ActiveRequest streaming(*a, a->breaker().admit(clock_.now()), clock_.now());
  ActiveRequest stuck(*b, b->breaker().admit(clock_.now()), clock_.now());
  streaming.on_response_head(clock_.now());
  clock_.advance(milliseconds(40));
  const auto counts = pick_counts(lb, 200);
  EXPECT_EQ(counts.count("b:1"), 0u);
  EXPECT_EQ(counts.at("a:1"), 200);
}

}  // namespace
}  // namespace vx::core::lb
