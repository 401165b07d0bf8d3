#include "adapters/wasm/vm/v8/v8_engine.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace vx::adapters::wasm {
namespace {

using namespace std::chrono_literals;

std::string guest(const char* name) {
  std::ifstream in(std::string(VORTEX_TEST_WASM_DIR) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// What the host functions of engine_basics.wat see of the test.
struct Host {
  WasmInstance* instance = nullptr;
  int calls = 0;
};

std::vector<HostFunction> host_functions() {
  return {
      {"env",
       "host_add",
       {ValueType::I32, ValueType::I32},
       ValueType::I32,
       [](void* host, const uint64_t* args) -> uint64_t {
         ++static_cast<Host*>(host)->calls;
         return static_cast<uint32_t>(args[0] + args[1]);
       }},
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
         // A host function calling back into the guest, as proxy_on_memory_allocate does.
         WasmInstance& instance = *static_cast<Host*>(host)->instance;
         const auto plus_one = instance.function("plus_one", {{ValueType::I32}, ValueType::I32});
         uint64_t result = 0;
         if (!plus_one || instance.call(*plus_one, {args, 1}, &result) != CallStatus::Ok) return 0;
         return result * 10;
       }},
  };
}

class V8EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto compiled = v8_engine().compile(guest("engine_basics.wasm"));
    ASSERT_TRUE(compiled) << compiled.error();
    module_ = *compiled;
  }
  std::unique_ptr<WasmInstance> instantiate(InstanceLimits limits = {}) {
    auto made = v8_engine().instantiate(*module_, functions_, &host_, limits);
    EXPECT_TRUE(made) << (made ? "" : made.error());
    if (!made) return nullptr;
    host_.instance = made->get();
    return std::move(*made);
  }
  uint64_t call_i32(WasmInstance& instance, const char* name, uint32_t arg) {
    const auto fn = instance.function(name, {{ValueType::I32}, ValueType::I32});
    EXPECT_TRUE(fn) << name;
    uint64_t result = ~0ULL;
    const uint64_t args[] = {arg};
    EXPECT_EQ(instance.call(*fn, args, &result), CallStatus::Ok) << name;
    return result;
  }

  std::shared_ptr<const WasmModule> module_;
  std::vector<HostFunction> functions_ = host_functions();
  Host host_;
};

TEST_F(V8EngineTest, ReportsImportsAndExportedFunctions) {
  EXPECT_EQ(module_->imports().size(), 3u);
  EXPECT_EQ(module_->imports()[0].module, "env");
  EXPECT_EQ(module_->imports()[0].name, "host_add");
  EXPECT_TRUE(module_->exports("add40"));
  EXPECT_TRUE(module_->exports("spin"));
  EXPECT_FALSE(module_->exports("memory"));  // a memory, not a function
  EXPECT_FALSE(module_->exports("missing"));
}

TEST_F(V8EngineTest, CallsExportsThatCallHostFunctions) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  EXPECT_EQ(call_i32(*instance, "add40", 2), 42u);
  EXPECT_EQ(host_.calls, 1);
  EXPECT_EQ(call_i32(*instance, "twice64_low", 21), 42u);  // an i64 through a host function
}

TEST_F(V8EngineTest, AHostFunctionMayCallBackIntoTheGuest) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  EXPECT_EQ(call_i32(*instance, "reenter", 4), 50u);
}

TEST_F(V8EngineTest, ExposesTheGuestsMemory) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto memory = instance->memory();
  ASSERT_EQ(memory.size(), 65536u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(memory.data()) + 16, 5), "hello");
}

TEST_F(V8EngineTest, ATrapIsReportedAndTheHostGoesOn) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto trap = instance->function("trap", {});
  EXPECT_EQ(instance->call(*trap, {}, nullptr), CallStatus::Trap);
  auto fresh = instantiate();  // a trapped instance is replaced, not reused
  EXPECT_EQ(call_i32(*fresh, "add40", 1), 41u);
}

TEST_F(V8EngineTest, AnEndlessLoopIsStoppedAtMaxCallAndNeverHitsTheNextCall) {
  auto instance = instantiate({.max_call = 30ms});
  ASSERT_TRUE(instance);
  const auto spin = instance->function("spin", {});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(instance->call(*spin, {}, nullptr), CallStatus::Timeout);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 30ms);
  EXPECT_LT(took, 2s);
  auto fresh = instantiate();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(call_i32(*fresh, "add40", 0), 40u);
}

TEST_F(V8EngineTest, MemoryGrowingPastTheCapIsStopped) {
  // Time enough to grow to the engine's ceiling: the instance's own cap must stop it.
  auto instance = instantiate({.max_call = 10s, .max_memory_pages = 64});
  ASSERT_TRUE(instance);
  const auto grow = instance->function("grow_forever", {{}, ValueType::I32});
  uint64_t result = 0;
  EXPECT_EQ(instance->call(*grow, {}, &result), CallStatus::Trap)
      << "memory now " << instance->memory().size() << " bytes";
}

TEST_F(V8EngineTest, EachThreadGetsInstancesOfItsOwn) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      Host host;
      auto made = v8_engine().instantiate(*module_, functions_, &host, {});
      if (!made) return;
      host.instance = made->get();
      const auto fn = (*made)->function("add40", {{ValueType::I32}, ValueType::I32});
      const uint64_t args[] = {2};
      uint64_t result = 0;
      for (int i = 0; i < 100; ++i) {
        if ((*made)->call(*fn, args, &result) != CallStatus::Ok || result != 42) return;
      }
      ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 3);
}

TEST(V8EngineCompileTest, RefusesWhatIsNotWasmAndNamesAMissingImport) {
  auto bad = v8_engine().compile("not wasm at all");
  ASSERT_FALSE(bad);
  EXPECT_FALSE(bad.error().empty());
  auto module = v8_engine().compile(guest("engine_basics.wasm"));
  ASSERT_TRUE(module);
  auto made = v8_engine().instantiate(**module, {}, nullptr, {});
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().find("env.host_add"), std::string::npos) << made.error();
}

}  // namespace
}  // namespace vx::adapters::wasm
