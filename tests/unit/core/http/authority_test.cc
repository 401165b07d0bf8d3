#include "core/http/authority.h"

#include <gtest/gtest.h>

namespace vx::core::http {
namespace {

TEST(AuthorityTest, AcceptsNamesAddressesAndPorts) {
  for (const char* ok : {"example.com", "example.com:8080", "127.0.0.1", "127.0.0.1:9", "[::1]",
                         "[::1]:443", "[2001:db8::7]", "xn--nxasmq6b.example", "a-b_c~d.example",
                         "host%20name", "example.com:", ""}) {
    EXPECT_TRUE(is_valid_authority(ok)) << ok;
  }
}

TEST(AuthorityTest, RefusesWhatWouldMisleadRoutingOrTheUpstream) {
  for (const char* bad :
       {"user@example.com", "user:pw@example.com", "exa mple.com", "example.com/evil",
        "example.com?x", "example.com#f", "exa\tmple", "example.com\\evil", "a:b:c",
        "example.com:80x", "example.com:123456", "example.com:65536", "[::1", "[::1]x", "[::1]:8a",
        "[zz::1]", "%zz", "host%2", "ex\x7f"}) {
    EXPECT_FALSE(is_valid_authority(bad)) << bad;
  }
}

}  // namespace
}  // namespace vx::core::http
