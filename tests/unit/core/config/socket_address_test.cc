#include "core/config/socket_address.h"

#include <gtest/gtest.h>

namespace vx::core::config {
namespace {

TEST(SocketAddressTest, ParsesIpv4AndBracketedIpv6) {
  auto v4 = parse_socket_address("0.0.0.0:8080", HostKind::IpLiteral);
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_EQ(v4->text, "0.0.0.0:8080");
  auto v6 = parse_socket_address("[::]:443", HostKind::IpLiteral);
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::");
  EXPECT_EQ(v6->port, 443);
}

TEST(SocketAddressTest, AcceptsNamesOnlyWhereAllowed) {
  EXPECT_TRUE(parse_socket_address("backend-1.svc:9000", HostKind::IpOrName).has_value());
  auto refused = parse_socket_address("localhost:80", HostKind::IpLiteral);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(),
            "bad address 'localhost:80': expected host:port with an IP address host (e.g. 0.0.0.0 "
            "or [::])");
}

TEST(SocketAddressTest, RefusesMissingOrOutOfRangePorts) {
  for (const char* text : {"x", "127.0.0.1", ":80", "[::1]", "[::1]80"}) {
    auto r = parse_socket_address(text, HostKind::IpOrName);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error(), "bad address '" + std::string(text) + "': expected host:port") << text;
  }
  for (const char* text : {"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "127.0.0.1:"}) {
    auto r = parse_socket_address(text, HostKind::IpOrName);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error(), "bad address '" + std::string(text) + "': port must be 1..65535") << text;
  }
  EXPECT_TRUE(parse_socket_address("127.0.0.1:65535", HostKind::IpLiteral).has_value());
}

TEST(SocketAddressTest, RefusesUnbracketedIpv6) {
  EXPECT_FALSE(parse_socket_address("::1:80", HostKind::IpOrName).has_value());
}

TEST(SocketAddressTest, RecognisesIpLiterals) {
  EXPECT_TRUE(is_ipv4_literal("192.168.0.1"));
  EXPECT_FALSE(is_ipv4_literal("256.0.0.1"));
  EXPECT_FALSE(is_ipv4_literal("1.2.3"));
  EXPECT_FALSE(is_ipv4_literal("01.2.3.4"));
  EXPECT_TRUE(is_ipv6_literal("::1"));
  EXPECT_TRUE(is_ipv6_literal("2001:db8::8a2e:370:7334"));
  EXPECT_TRUE(is_ipv6_literal("::ffff:10.0.0.1"));
  EXPECT_TRUE(is_ipv6_literal("1:2:3:4:5:6:7:8"));
  EXPECT_FALSE(is_ipv6_literal("1:2:3:4:5:6:7:8:9"));
  EXPECT_FALSE(is_ipv6_literal("1::2::3"));
  EXPECT_FALSE(is_ipv6_literal("12345::"));
  EXPECT_FALSE(is_ipv6_literal("1:2:3:4:5:6:7"));
}

TEST(SocketAddressTest, RecognisesDnsNames) {
  EXPECT_TRUE(is_dns_name("a.b-c.example"));
  EXPECT_FALSE(is_dns_name("a..b"));
  EXPECT_FALSE(is_dns_name(".a"));
  EXPECT_FALSE(is_dns_name("a b"));
  EXPECT_FALSE(is_dns_name(std::string(64, 'a')));
}

}  // namespace
}  // namespace vx::core::config
