#include "core/ratelimit/rate_limit_key.h"

#include <string>

#include <gtest/gtest.h>

namespace vx::core::ratelimit {
namespace {

TEST(RateLimitKeyTest, ParsesTheThreeKeyKinds) {
  EXPECT_EQ(RateLimitKey::parse("client_ip")->source, KeySource::ClientIp);
  EXPECT_EQ(RateLimitKey::parse("route")->source, KeySource::Route);
  auto h = RateLimitKey::parse("header:X-Api-Key");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->source, KeySource::Header);
  EXPECT_EQ(h->header_name, "x-api-key");
}

TEST(RateLimitKeyTest, RefusesUnknownOrMalformedSpecs) {
  for (const char* bad : {"", "ip", "header:", "header:a b", "header:x:y", "Client_IP", "route "}) {
    auto k = RateLimitKey::parse(bad);
    ASSERT_FALSE(k) << bad;
    EXPECT_NE(k.error().find("bad rate limit key"), std::string::npos);
  }
}

TEST(RateLimitKeyTest, ClientIpKeyIsTheClientAddress) {
  const RateLimitKey k = *RateLimitKey::parse("client_ip");
  EXPECT_EQ(request_key(k, "10.0.0.1", std::nullopt, "api"), "10.0.0.1");
}

TEST(RateLimitKeyTest, RouteKeyIsTheRouteName) {
  const RateLimitKey k = *RateLimitKey::parse("route");
  EXPECT_EQ(request_key(k, "10.0.0.1", std::nullopt, "api"), "api");
}

TEST(RateLimitKeyTest, HeaderKeyIsTheHeaderValueAndDashWhenMissingOrEmpty) {
  const RateLimitKey k = *RateLimitKey::parse("header:X-Tenant");
  EXPECT_EQ(request_key(k, "10.0.0.1", std::optional<std::string_view>("acme"), "api"), "acme");
  EXPECT_EQ(request_key(k, "10.0.0.1", std::nullopt, "api"), "-");
  EXPECT_EQ(request_key(k, "10.0.0.1", std::optional<std::string_view>(""), "api"), "-");
}

TEST(RateLimitKeyTest, LookupIsAskedForTheLowerCaseNameOnlyWhenNeeded) {
  const RateLimitKey header = *RateLimitKey::parse("header:X-Tenant");
  const RateLimitKey ip = *RateLimitKey::parse("client_ip");
  int calls = 0;
  std::string asked;
  auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    ++calls;
    asked = name;
    return "t1";
  };
  EXPECT_EQ(request_key(header, "1.2.3.4", lookup, "r"), "t1");
  EXPECT_EQ(asked, "x-tenant");
  EXPECT_EQ(request_key(ip, "1.2.3.4", lookup, "r"), "1.2.3.4");
  EXPECT_EQ(calls, 1);
}

TEST(RateLimitKeyTest, KeysAreCutToTheMaximumLength) {
  const RateLimitKey k = *RateLimitKey::parse("header:x-api-key");
  const std::string huge(10000, 'a');
  EXPECT_EQ(request_key(k, "ip", std::optional<std::string_view>(huge), "r").size(), kMaxKeyBytes);
}

}  // namespace
}  // namespace vx::core::ratelimit
