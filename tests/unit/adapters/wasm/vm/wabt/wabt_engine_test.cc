// What the WABT engine does beyond the port's contract (engine_conformance_test.cc checks that):
// it bounds start functions and refuses at instantiation what V8 would only trip over later.
#include "adapters/wasm/vm/wabt/wabt_engine.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "support/wasm_guest.h"

namespace vx::adapters::wasm {
namespace {

using namespace std::chrono_literals;

std::string guest(const std::string& name) {
  return testing::wasm_guest(name);
}

struct Host {
  WasmInstance* instance = nullptr;
};

// engine_basics.wat's imports; host_reenter calls back into "recurse" (host_peek is not used here).
std::vector<HostFunction> host_functions() {
  return {
      {"env",
       "host_add",
       {ValueType::I32, ValueType::I32},
       ValueType::I32,
       [](void*, const uint64_t* args) -> uint64_t { return args[0] + args[1]; }},
      {"env",
       "host_twice64",
       {ValueType::I64},
       ValueType::I64,
       [](void*, const uint64_t* args) -> uint64_t { return args[0] * 2; }},
      {"env",
       "host_reenter",
       {ValueType::I32},
       ValueType::I32,
       [](void* host, const uint64_t* args) -> uint64_t {
         WasmInstance& instance = *static_cast<Host*>(host)->instance;
         const auto fn = instance.function("recurse", {{ValueType::I32}, ValueType::I32});
         uint64_t result = 0;
         return fn && instance.call(*fn, {args, 1}, &result) == CallStatus::Ok ? result : 7;
       }},
      {"env",
       "host_peek",
       {ValueType::I32},
       ValueType::I32,
       [](void*, const uint64_t*) -> uint64_t { return 0; }},
  };
}

std::string refusal(const char* file, std::span<const HostFunction> functions,
                    InstanceLimits limits) {
  auto compiled = wabt_engine().compile(guest(file));
  if (!compiled) return "compile: " + compiled.error();
  auto made = wabt_engine().instantiate(**compiled, functions, nullptr, limits);
  return made ? "" : made.error();
}

TEST(WabtEngineTest, IsNamedAsTheConfigNamesIt) {
  EXPECT_EQ(wabt_engine().name(), "wabt");
}

TEST(WabtEngineTest, RefusesAMemoryThatStartsOverTheCap) {
  const std::string why = refusal("big_memory.wasm", {}, {.max_memory_pages = 64});
  EXPECT_NE(why.find("100 pages, over the cap of 64"), std::string::npos) << why;
  EXPECT_EQ(refusal("big_memory.wasm", {}, {.max_memory_pages = 100}), "");
}

TEST(WabtEngineTest, RefusesAHostFunctionOfAnotherSignatureNamingBoth) {
  auto functions = host_functions();
  functions[0].params = {ValueType::I32};
  const std::string why = refusal("engine_basics.wasm", functions, {});
  EXPECT_NE(why.find("env.host_add as (i32, i32) -> i32, which this host provides as (i32) -> i32"),
            std::string::npos)
      << why;
}

TEST(WabtEngineTest, ASignatureMismatchIsStrictEvenOnTheResult) {
  auto compiled = wabt_engine().compile(guest("engine_basics.wasm"));
  ASSERT_TRUE(compiled);
  Host host;
  const auto functions = host_functions();
  auto made = wabt_engine().instantiate(**compiled, functions, &host, {});
  ASSERT_TRUE(made) << made.error();
  const auto dropped = (*made)->function("plus_one", {{ValueType::I32}, std::nullopt});
  const uint64_t args[] = {1};
  EXPECT_EQ((*made)->call(*dropped, args, nullptr), CallStatus::Trap);
}

TEST(WabtEngineTest, ATrapInACallBackIntoTheGuestTrapsTheOutermostCall) {
  // The interpreter's stacks are left mid-call by the inner trap: the outer call cannot go on.
  auto compiled = wabt_engine().compile(guest("engine_basics.wasm"));
  ASSERT_TRUE(compiled);
  Host host;
  const auto functions = host_functions();
  auto made = wabt_engine().instantiate(**compiled, functions, &host, {.max_call = 10s});
  ASSERT_TRUE(made) << made.error();
  host.instance = made->get();
  const auto fn = (*made)->function("reenter", {{ValueType::I32}, ValueType::I32});
  const uint64_t args[] = {0};
  uint64_t result = 0;
  EXPECT_EQ((*made)->call(*fn, args, &result), CallStatus::Trap);
  EXPECT_EQ((*made)->call(*fn, args, &result), CallStatus::Trap);  // and stays stopped
}

TEST(WabtEngineTest, RefusesAModuleCompiledByAnotherEngine) {
  struct Foreign final : WasmModule {
    std::vector<Import> none;
    std::vector<std::string> nothing;
    const std::vector<Import>& imports() const override { return none; }
    const std::vector<std::string>& function_exports() const override { return nothing; }
  } foreign;
  EXPECT_FALSE(wabt_engine().instantiate(foreign, {}, nullptr, {}));
}

}  // namespace
}  // namespace vx::adapters::wasm
