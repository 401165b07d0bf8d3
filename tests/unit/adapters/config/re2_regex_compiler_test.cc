#include "adapters/config/re2_regex_compiler.h"

#include <gtest/gtest.h>

namespace vx::adapters::config {
namespace {

TEST(Re2RegexCompilerTest, MatchesTheWholeTextOnly) {
  auto re = Re2RegexCompiler().compile("/u/[0-9]+");
  ASSERT_TRUE(re.has_value());
  EXPECT_TRUE(re.value()->full_match("/u/42"));
  EXPECT_FALSE(re.value()->full_match("/u/42/x"));
  EXPECT_FALSE(re.value()->full_match("x/u/42"));
}

TEST(Re2RegexCompilerTest, ReturnsRe2sMessageForABadPattern) {
  auto re = Re2RegexCompiler().compile("a(b");
  ASSERT_FALSE(re.has_value());
  EXPECT_EQ(re.error(), "missing ): a(b");
}

TEST(Re2RegexCompilerTest, RefusesBackreferencesWhichRe2DoesNotSupport) {
  EXPECT_FALSE(Re2RegexCompiler().compile("(a)\\1").has_value());
}

}  // namespace
}  // namespace vx::adapters::config
