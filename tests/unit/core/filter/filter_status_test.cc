#include "core/filter/filter_status.h"

#include <gtest/gtest.h>

namespace vx::core::filter {
namespace {

TEST(HookSetTest, HoldsExactlyTheHooksNamed) {
  constexpr HookSet set = Hook::RequestHead | Hook::ResponseBody;
  static_assert(set.has(Hook::RequestHead));
  EXPECT_TRUE(set.has(Hook::ResponseBody));
  EXPECT_FALSE(set.has(Hook::RequestBody));
  EXPECT_FALSE(set.has(Hook::ResponseHead));
  EXPECT_FALSE(set.has(Hook::Log));
  EXPECT_TRUE(HookSet().empty());
  EXPECT_FALSE(HookSet(Hook::Log).empty());
}

}  // namespace
}  // namespace vx::core::filter
