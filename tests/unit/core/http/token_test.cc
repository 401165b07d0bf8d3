#include "core/http/token.h"

#include <string>

#include <gtest/gtest.h>

namespace vx::core::http {
namespace {

// RFC 9110 §5.6.2: tchar is a letter, a digit or one of "!#$%&'*+-.^_`|~"; every other byte
// (separators, space, controls, DEL, obs-text) is not.
TEST(TokenTest, TcharIsExactlyTheRfcSet) {
  const std::string punctuation = "!#$%&'*+-.^_`|~";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool expected = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
                          (b >= 'A' && b <= 'Z') || punctuation.find(c) != std::string::npos;
    EXPECT_EQ(is_tchar(c), expected) << "byte " << b;
  }
}

TEST(TokenTest, ATokenIsANonEmptyRunOfTchar) {
  EXPECT_TRUE(is_token("x-vortex-plugin"));
  EXPECT_TRUE(is_token("GET"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("bad name"));
  EXPECT_FALSE(is_token("x:y"));
  EXPECT_FALSE(is_token("caf\xc3\xa9"));
  static_assert(is_token("x-hello"), "usable in constant expressions");
}

// Checked four bytes a step, then the rest one by one: in names of every length around the
// step, any byte at any position decides as is_tchar says.
TEST(TokenTest, EveryByteAtEveryPositionDecides) {
  for (size_t length = 1; length <= 9; ++length) {
    for (size_t at = 0; at < length; ++at) {
      std::string name(length, 'a');
      for (int byte = 0; byte < 256; ++byte) {
        name[at] = static_cast<char>(byte);
        ASSERT_EQ(is_token(name), is_tchar(name[at])) << "length " << length << " byte " << byte;
      }
    }
  }
}

}  // namespace
}  // namespace vx::core::http
