#include "core/ban/kernel_ban_key.h"

#include <gtest/gtest.h>

#include <string>

namespace vx::core::ban {
namespace {

using Family = KernelBanKey::Family;

TEST(KernelBanKey, Ipv4IsItsFourHeaderBytesInNetworkOrder) {
  const auto key = kernel_ban_key("10.251.16.3");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->family, Family::V4);
  EXPECT_EQ(key->bytes[0], 10);
  EXPECT_EQ(key->bytes[1], 251);
  EXPECT_EQ(key->bytes[2], 16);
  EXPECT_EQ(key->bytes[3], 3);
  for (size_t i = 4; i < 16; ++i) EXPECT_EQ(key->bytes[i], 0) << i;
}

TEST(KernelBanKey, Ipv6IsItsSixteenBytes) {
  const auto key = kernel_ban_key("fd16::3");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->family, Family::V6);
  EXPECT_EQ(key->bytes[0], 0xfd);
  EXPECT_EQ(key->bytes[1], 0x16);
  EXPECT_EQ(key->bytes[15], 3);
  for (size_t i = 2; i < 15; ++i) EXPECT_EQ(key->bytes[i], 0) << i;
}

TEST(KernelBanKey, Ipv4MappedIpv6IsTheIpv4KeyBecauseThePacketsAreIpv4) {
  EXPECT_EQ(kernel_ban_key("::ffff:127.0.0.7"), kernel_ban_key("127.0.0.7"));
  // Only the ::ffff:0:0/96 prefix maps: the deprecated IPv4-compatible form stays IPv6.
  const auto compatible = kernel_ban_key("::127.0.0.7");
  ASSERT_TRUE(compatible);
  EXPECT_EQ(compatible->family, Family::V6);
}

TEST(KernelBanKey, SpellingsOfOneAddressAreOneKey) {
  EXPECT_EQ(kernel_ban_key("FD16:0:0::3"), kernel_ban_key("fd16::3"));
}

TEST(KernelBanKey, WhatIsNoAddressHasNoKey) {
  for (const char* text :
       {"", "10.0.0", "10.0.0.256", "host.example", "fd16:::3", "1.2.3.4:80", "[fd16::3]",
        "10.0.0.1 ", "fd16::3%eth0", "0000:0000:0000:0000:0000:0000:0000:0000:1"}) {
    EXPECT_FALSE(kernel_ban_key(text)) << text;
  }
  // Longer than any address text: refused before it reaches the fixed buffer.
  EXPECT_FALSE(kernel_ban_key(std::string(200, '1')));
}

TEST(KernelExpiry, IsTheSteadyClockCountInNanoseconds) {
  EXPECT_EQ(kernel_expiry_ns(TimePoint(std::chrono::milliseconds(1500))), 1'500'000'000u);
  EXPECT_EQ(kernel_expiry_ns(TimePoint(Nanos(-5))), 0u);
}

}  // namespace
}  // namespace vx::core::ban
