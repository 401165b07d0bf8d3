#include "core/ratelimit/policy.h"

#include <gtest/gtest.h>

namespace vx::core::ratelimit {
namespace {

TEST(PolicyTest, BuildsFromTheConfigDefaults) {
  config::RateLimitPolicy c;
  c.name = "default";
  auto p = Policy::from_config(c);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "default");
  EXPECT_EQ(p->key.source, KeySource::ClientIp);
  EXPECT_EQ(p->gcra.emission_interval, std::chrono::milliseconds(10));
  EXPECT_EQ(p->gcra.tolerance, std::chrono::milliseconds(200));
  EXPECT_EQ(p->gcra.limit, 21u);
}

TEST(PolicyTest, RefusesABadKeyNamingThePolicy) {
  config::RateLimitPolicy c;
  c.name = "p1";
  c.key = "cookie:sid";
  auto p = Policy::from_config(c);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().find("'p1'"), std::string::npos);
}

TEST(PolicyTest, ClampsAnAbsurdPeriodWithoutOverflow) {
  config::RateLimitPolicy c;
  c.name = "p";
  c.period = config::Millis(std::numeric_limits<int64_t>::max());
  c.rate = 1;
  auto p = Policy::from_config(c);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->gcra.emission_interval.count(), kMaxWindowNs);
  EXPECT_EQ(p->gcra.limit, 1u);
}

}  // namespace
}  // namespace vx::core::ratelimit
