#include "adapters/ratelimit/redis_url.h"

#include <gtest/gtest.h>

namespace vx::adapters::ratelimit {
namespace {

TEST(RedisUrlTest, ParsesHostPortAndDatabase) {
  auto u = RedisUrl::parse("redis://10.0.0.5:6380/3");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "10.0.0.5");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 3u);
}

TEST(RedisUrlTest, DatabaseDefaultsToZeroAndNamesAndIpv6Work) {
  auto name = RedisUrl::parse("redis://redis.internal:6379");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "redis.internal");
  EXPECT_EQ(name->db, 0u);
  auto v6 = RedisUrl::parse("redis://[::1]:7000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
}

TEST(RedisUrlTest, RefusesOtherShapes) {
  for (const char* bad : {"", "redis://", "rediss://h:1", "http://h:1", "redis://h", "redis://h:1/",
                          "redis://h:1/x", "redis://h:0", "redis://h:1/123456"}) {
    auto u = RedisUrl::parse(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_NE(u.error().find("bad redis url"), std::string::npos);
  }
}

}  // namespace
}  // namespace vx::adapters::ratelimit
