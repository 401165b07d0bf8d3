// The engine port's contract (vm/wasm_vm.h), checked once and run against every engine: what
// the Proxy-Wasm host relies on must hold whichever runtime the config picks.
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/wasm_guest.h"

#include "adapters/wasm/vm/v8/v8_engine.h"
#include "adapters/wasm/vm/wabt/wabt_engine.h"
#include "adapters/wasm/vm/wasm_vm.h"

namespace vx::adapters::wasm {
namespace {

using namespace std::chrono_literals;

std::string guest(const std::string& name) {
  return testing::wasm_guest(name);
}

// What the host functions of engine_basics.wat see of the test.
struct Host {
  WasmInstance* instance = nullptr;
  int calls = 0;
  const char* reenter = "plus_one";  // the (i32) -> i32 export host_reenter calls
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
         Host& h = *static_cast<Host*>(host);
         const auto fn = h.instance->function(h.reenter, {{ValueType::I32}, ValueType::I32});
         uint64_t result = 0;
         if (!fn || h.instance->call(*fn, {args, 1}, &result) != CallStatus::Ok) return 0;
         return result * 10;
       }},
      {"env",
       "host_peek",
       {ValueType::I32},
       ValueType::I32,
       [](void* host, const uint64_t* args) -> uint64_t {
         // The byte at args[0] as the host sees the guest's memory now (0xffff: outside it).
         const auto memory = static_cast<Host*>(host)->instance->memory();
         return args[0] < memory.size() ? memory[args[0]] : 0xffff;
       }},
  };
}

struct EngineParam {
  const char* name;
  WasmEngine& (*engine)();
};
void PrintTo(const EngineParam& param, std::ostream* out) {
  *out << param.name;
}

class EngineConformanceTest : public ::testing::TestWithParam<EngineParam> {
 protected:
  WasmEngine& engine() { return GetParam().engine(); }
  void SetUp() override {
    auto compiled = engine().compile(guest("engine_basics.wasm"));
    ASSERT_TRUE(compiled) << compiled.error();
    module_ = *compiled;
  }
  std::unique_ptr<WasmInstance> instantiate(InstanceLimits limits = {}) {
    auto made = engine().instantiate(*module_, functions_, &host_, limits);
    EXPECT_TRUE(made) << (made ? "" : made.error());
    if (!made) return nullptr;
    host_.instance = made->get();
    return std::move(*made);
  }
  // Instantiating the guest `file` with this test's host functions: the refusal, or "".
  std::string refusal(const char* file, InstanceLimits limits = {}) {
    auto compiled = engine().compile(guest(file));
    if (!compiled) return "compile: " + compiled.error();
    auto made = engine().instantiate(**compiled, functions_, &host_, limits);
    return made ? "" : made.error();
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

TEST_P(EngineConformanceTest, ReportsImportsAndExportedFunctions) {
  ASSERT_EQ(module_->imports().size(), 4u);
  EXPECT_EQ(module_->imports()[0].module, "env");
  EXPECT_EQ(module_->imports()[0].name, "host_add");
  EXPECT_TRUE(module_->imports()[0].function);
  EXPECT_TRUE(module_->exports("add40"));
  EXPECT_TRUE(module_->exports("spin"));
  EXPECT_TRUE(module_->exports("host_add_reexported"));
  EXPECT_FALSE(module_->exports("memory"));  // a memory, not a function
  EXPECT_FALSE(module_->exports("missing"));
}

TEST_P(EngineConformanceTest, CallsExportsThatCallHostFunctions) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  EXPECT_EQ(call_i32(*instance, "add40", 2), 42u);
  EXPECT_EQ(host_.calls, 1);
  EXPECT_EQ(call_i32(*instance, "twice64_low", 21), 42u);  // an i64 through a host function
}

TEST_P(EngineConformanceTest, PassesAndReturnsI64Values) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto fn = instance->function("times3_64", {{ValueType::I64}, ValueType::I64});
  ASSERT_TRUE(fn);
  const uint64_t args[] = {uint64_t{1} << 40};
  uint64_t result = 0;
  ASSERT_EQ(instance->call(*fn, args, &result), CallStatus::Ok);
  EXPECT_EQ(result, uint64_t{3} << 40);
}

TEST_P(EngineConformanceTest, CallsAnExportedImport) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto fn =
      instance->function("host_add_reexported", {{ValueType::I32, ValueType::I32}, ValueType::I32});
  ASSERT_TRUE(fn);
  const uint64_t args[] = {5, 6};
  uint64_t result = 0;
  ASSERT_EQ(instance->call(*fn, args, &result), CallStatus::Ok);
  EXPECT_EQ(result, 11u);
}

TEST_P(EngineConformanceTest, AHostFunctionMayCallBackIntoTheGuest) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  EXPECT_EQ(call_i32(*instance, "reenter", 4), 50u);
  EXPECT_EQ(call_i32(*instance, "reenter", 5), 60u);
}

TEST_P(EngineConformanceTest, ASequenceCallsItsPartsInOrderAndReturnsTheLastResult) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto push = instance->function("push", {{ValueType::I32}, {}});
  const auto add40 = instance->function("add40", {{ValueType::I32}, ValueType::I32});
  const auto plus_one = instance->function("plus_one", {{ValueType::I32}, ValueType::I32});
  ASSERT_TRUE(push && add40 && plus_one);
  const WasmInstance::Function parts[] = {*push, *add40, *push, *plus_one};
  const auto run = instance->sequence(parts);
  if (!run) GTEST_SKIP() << GetParam().name << " calls the parts one by one";
  const uint64_t args[] = {7, 1, 9, 41};
  uint64_t result = 0;
  ASSERT_EQ(instance->call(*run, args, &result), CallStatus::Ok);
  EXPECT_EQ(result, 42u);  // plus_one's; add40's was dropped
  EXPECT_EQ(host_.calls, 1);
  const auto memory = instance->memory();
  ASSERT_GE(memory.size(), 68u);
  EXPECT_EQ(memory[64], 2);
  EXPECT_EQ(memory[65], 7);
  EXPECT_EQ(memory[66], 9);
}

TEST_P(EngineConformanceTest, ASequenceStopsAtATrap) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto push = instance->function("push", {{ValueType::I32}, {}});
  const auto trap = instance->function("trap", {});
  ASSERT_TRUE(push && trap);
  const WasmInstance::Function parts[] = {*push, *trap, *push};
  const auto run = instance->sequence(parts);
  if (!run) GTEST_SKIP() << GetParam().name << " calls the parts one by one";
  const uint64_t args[] = {3, 4};
  EXPECT_EQ(instance->call(*run, args, nullptr), CallStatus::Trap);
  EXPECT_EQ(instance->memory()[64], 1);
  EXPECT_EQ(instance->memory()[65], 3);
}

TEST_P(EngineConformanceTest, ASequenceOfAPartWithAnotherRealSignatureIsRefused) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  // plus_one really takes an i32 and returns one; the host claims it takes two.
  const auto wrong =
      instance->function("plus_one", {{ValueType::I32, ValueType::I32}, ValueType::I32});
  const auto push = instance->function("push", {{ValueType::I32}, {}});
  ASSERT_TRUE(wrong && push);
  const WasmInstance::Function parts[] = {*push, *wrong};
  EXPECT_FALSE(instance->sequence(parts));
}

TEST_P(EngineConformanceTest, RunsTheStartFunctionAtInstantiation) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  EXPECT_EQ(instance->memory()[32], 1u);
}

TEST_P(EngineConformanceTest, ExposesTheGuestsMemoryBothWays) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto memory = instance->memory();
  ASSERT_EQ(memory.size(), 65536u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(memory.data()) + 16, 5), "hello");
  memory[1000] = 0xab;  // the host writes, the guest reads
  EXPECT_EQ(call_i32(*instance, "load_u8", 1000), 0xabu);
}

TEST_P(EngineConformanceTest, MemoryIsReReadAfterTheGuestGrowsIt) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  instance->memory()[100] = 7;
  EXPECT_EQ(call_i32(*instance, "grow", 3), 1u);  // the old size in pages
  const auto memory = instance->memory();
  EXPECT_EQ(memory.size(), 4u * 65536);
  EXPECT_EQ(memory[100], 7u);
  memory[3 * 65536 + 5] = 9;
  EXPECT_EQ(call_i32(*instance, "load_u8", 3 * 65536 + 5), 9u);
}

TEST_P(EngineConformanceTest, AHostFunctionSeesMemoryTheGuestGrewInTheSameCall) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  instance->memory()[100] = 7;
  EXPECT_EQ(call_i32(*instance, "grow_and_peek", 2), 0x5au);
  EXPECT_EQ(instance->memory().size(), 3u * 65536);
  EXPECT_EQ(call_i32(*instance, "grow_and_peek", 5), 0x5au);
  EXPECT_EQ(instance->memory().size(), 8u * 65536);
  EXPECT_EQ(instance->memory()[100], 7u);
}

TEST_P(EngineConformanceTest, CallingAnExportWithAnotherSignatureIsATrap) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto fn = instance->function("add40", {{ValueType::I64}, ValueType::I32});
  ASSERT_TRUE(fn);
  const uint64_t args[] = {1};
  uint64_t result = 0;
  EXPECT_EQ(instance->call(*fn, args, &result), CallStatus::Trap);
  EXPECT_FALSE(instance->function("missing", {}));
}

TEST_P(EngineConformanceTest, ATrapIsReportedAndTheHostGoesOn) {
  auto instance = instantiate();
  ASSERT_TRUE(instance);
  const auto trap = instance->function("trap", {});
  EXPECT_EQ(instance->call(*trap, {}, nullptr), CallStatus::Trap);
  auto fresh = instantiate();  // a trapped instance is replaced, not reused
  EXPECT_EQ(call_i32(*fresh, "add40", 1), 41u);
}

TEST_P(EngineConformanceTest, EndlessRecursionIsATrap) {
  auto instance = instantiate({.max_call = 10s});
  ASSERT_TRUE(instance);
  const auto fn = instance->function("recurse", {{ValueType::I32}, ValueType::I32});
  const uint64_t args[] = {0};
  uint64_t result = 0;
  EXPECT_EQ(instance->call(*fn, args, &result), CallStatus::Trap);
}

TEST_P(EngineConformanceTest, AnEndlessLoopIsStoppedAtMaxCallAndNeverHitsTheNextCall) {
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

TEST_P(EngineConformanceTest, AnEndlessLoopInACallBackIntoTheGuestTimesTheOutermostCallOut) {
  auto instance = instantiate({.max_call = 30ms});
  ASSERT_TRUE(instance);
  host_.reenter = "spin_i32";
  const auto fn = instance->function("reenter", {{ValueType::I32}, ValueType::I32});
  const uint64_t args[] = {1};
  uint64_t result = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(instance->call(*fn, args, &result), CallStatus::Timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_P(EngineConformanceTest, MemoryGrowingPastTheCapIsStopped) {
  // Time enough to grow to the engine's ceiling: the instance's own cap must stop it.
  auto instance = instantiate({.max_call = 10s, .max_memory_pages = 64});
  ASSERT_TRUE(instance);
  const auto grow = instance->function("grow_forever", {{}, ValueType::I32});
  uint64_t result = 0;
  EXPECT_EQ(instance->call(*grow, {}, &result), CallStatus::Trap)
      << "memory now " << instance->memory().size() << " bytes";
}

TEST_P(EngineConformanceTest, AModuleCompiledOnceServesInstancesOnEveryThread) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      Host host;
      auto made = engine().instantiate(*module_, functions_, &host, {});
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

TEST_P(EngineConformanceTest, AStartFunctionRunningPastMaxCallIsStoppedAndRefused) {
  const auto start = std::chrono::steady_clock::now();
  const std::string why = refusal("start_spins.wasm", {.max_call = 30ms});
  EXPECT_NE(why.find("start function ran past max_call"), std::string::npos) << why;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(refusal("start_spins.wasm", {.max_call = 30ms}), why) << "the next one is stopped too";
}

TEST_P(EngineConformanceTest, RefusesWhatIsNotWasm) {
  auto bad = engine().compile("not wasm at all");
  ASSERT_FALSE(bad);
  EXPECT_FALSE(bad.error().empty());
}

TEST_P(EngineConformanceTest, RefusesAMissingImportNamingIt) {
  auto made = engine().instantiate(*module_, {}, nullptr, {});
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().find("env.host_add"), std::string::npos) << made.error();
  EXPECT_NE(refusal("missing_import.wasm").find("env.proxy_does_not_exist"), std::string::npos);
}

TEST_P(EngineConformanceTest, RefusesAnImportThatIsNotAFunction) {
  EXPECT_NE(refusal("imports_memory.wasm").find("env.memory"), std::string::npos);
}

TEST_P(EngineConformanceTest, RefusesAModuleThatExportsNoMemory) {
  EXPECT_NE(refusal("no_memory.wasm").find("memory"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineConformanceTest,
                         ::testing::Values(EngineParam{"v8", v8_engine},
                                           EngineParam{"wabt", wabt_engine}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace vx::adapters::wasm
