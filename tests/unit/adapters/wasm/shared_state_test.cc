#include "adapters/wasm/shared_state.h"

#include <gtest/gtest.h>

namespace vx::adapters::wasm {
namespace {

TEST(SharedStateTest, SetWithCasOnlyWhenTheValueIsStillTheOneRead) {
  SharedState shared;
  ASSERT_EQ(shared.set_data("vm", "k", "one", 0), WasmResult::Ok);
  const auto first = shared.get_data("vm", "k");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->bytes, "one");
  ASSERT_EQ(shared.set_data("vm", "k", "two", first->cas), WasmResult::Ok);
  EXPECT_EQ(shared.set_data("vm", "k", "three", first->cas), WasmResult::CasMismatch);
  EXPECT_EQ(shared.get_data("vm", "k")->bytes, "two");
  EXPECT_FALSE(shared.get_data("other-vm", "k")) << "each VM id has its own keys";
}

TEST(SharedStateTest, ACasAgainstAKeyNobodySetFailsWithoutCreatingIt) {
  SharedState shared;
  EXPECT_EQ(shared.set_data("vm", "missing", "x", 7), WasmResult::CasMismatch);
  EXPECT_FALSE(shared.get_data("vm", "missing"));
}

}  // namespace
}  // namespace vx::adapters::wasm
