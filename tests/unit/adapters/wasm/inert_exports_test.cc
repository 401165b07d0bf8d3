#include "adapters/wasm/inert_exports.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/wasm_guest.h"

namespace vx::adapters::wasm {
namespace {

using ::testing::UnorderedElementsAre;

TEST(InertExportsTest, FindsTheFunctionsThatDoNothingAndOnlyThose) {
  const std::string bytes = vx::testing::wasm_guest("inert_hooks.wasm");
  ASSERT_FALSE(bytes.empty());
  // Counted after the two imported functions (not the table or the global): a body numbered
  // wrongly would pair an empty body with a busy export, or miss one.
  EXPECT_THAT(inert_exports(bytes), UnorderedElementsAre("proxy_on_log", "proxy_on_delete",
                                                         "proxy_on_done", "returns_minus_one"));
}

TEST(InertExportsTest, CHooksWrittenEmptyAreInertAndBusyOnesNot) {
  // clang's code for `void proxy_on_context_create(u32, u32) {}` and for `return 1;`, beside
  // hooks that do work; the ABI marker is empty too (and never called).
  EXPECT_THAT(
      inert_exports(vx::testing::wasm_guest("abi_0_1_0.wasm")),
      UnorderedElementsAre("proxy_abi_version_0_1_0", "proxy_on_vm_start", "proxy_on_configure",
                           "proxy_on_context_create", "proxy_on_done"));
  // test_filter.c keeps a table of its streams from create to delete, and logs in on_log.
  EXPECT_THAT(inert_exports(vx::testing::wasm_guest("test_filter.wasm")),
              ::testing::IsSupersetOf({"proxy_on_done"}));
  for (const auto& name : inert_exports(vx::testing::wasm_guest("test_filter.wasm"))) {
    EXPECT_TRUE(name != "proxy_on_context_create" && name != "proxy_on_log" &&
                name != "proxy_on_delete")
        << name;
  }
}

TEST(InertExportsTest, BytesItCannotFollowGiveNothing) {
  const std::string bytes = vx::testing::wasm_guest("inert_hooks.wasm");
  const auto whole = inert_exports(bytes);
  EXPECT_TRUE(inert_exports("").empty());
  EXPECT_TRUE(inert_exports("\0asm\2\0\0\0").empty());
  // Every cut: a section cut short gives nothing, one cut before the code section nothing to
  // find; never a read past the end (ASan) nor a wrong name.
  for (size_t n = 0; n < bytes.size(); ++n) {
    const auto found = inert_exports(std::string_view(bytes).substr(0, n));
    EXPECT_TRUE(found.empty()) << "cut at " << n;
  }
  // Every single byte changed: no read past the end (ASan), and every name found is one the
  // bytes hold.
  for (size_t i = 8; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] = static_cast<char>(changed[i] ^ 0x80);
    for (const auto& name : inert_exports(changed)) {
      EXPECT_NE(changed.find(name), std::string::npos) << "byte " << i;
    }
  }
}

}  // namespace
}  // namespace vx::adapters::wasm
