// The V8 engine's watchdog (it stops calls past max_call) rests while no call runs, so an idle
// proxy with a V8 plugin does not wake 200 times a second, and a call that starts while it
// rests is still stopped in time.
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/wasm_guest.h"

#include "adapters/wasm/vm/v8/v8_engine.h"
#include "adapters/wasm/vm/wasm_vm.h"

namespace vx::adapters::wasm {
namespace {

using namespace std::chrono_literals;

// engine_basics.wasm's imports; this test never makes the guest call them.
std::vector<HostFunction> unused_host_functions() {
  auto none = [](void*, const uint64_t*) -> uint64_t { return 0; };
  return {
      {"env", "host_add", {ValueType::I32, ValueType::I32}, ValueType::I32, none},
      {"env", "host_twice64", {ValueType::I64}, ValueType::I64, none},
      {"env", "host_reenter", {ValueType::I32}, ValueType::I32, none},
      {"env", "host_peek", {ValueType::I32}, ValueType::I32, none},
  };
}

// The context switches the watchdog thread has made, from /proc (it names itself).
std::optional<long> watchdog_switches() {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (!std::getline(comm, name) || name != "vortex-wasm-wd") continue;
    std::ifstream status(task.path() / "status");
    long switches = 0;
    for (std::string line; std::getline(status, line);) {
      if (line.find("ctxt_switches:") != std::string::npos) {
        switches += std::stol(line.substr(line.find(':') + 1));
      }
    }
    return switches;
  }
  return std::nullopt;
}

TEST(V8WatchdogTest, RestsWhileNoCallRunsAndStillStopsACallThatStartsThen) {
  const long membarrier = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (membarrier < 0 || !(membarrier & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
    GTEST_SKIP() << "no membarrier here: the watchdog never rests";
  }
  auto compiled = v8_engine().compile(testing::wasm_guest("engine_basics.wasm"));
  ASSERT_TRUE(compiled) << compiled.error();
  const auto functions = unused_host_functions();
  auto instance = v8_engine().instantiate(**compiled, functions, nullptr, {.max_call = 30ms});
  ASSERT_TRUE(instance) << instance.error();
  const auto spin = (*instance)->function("spin", {});
  ASSERT_TRUE(spin);

  std::this_thread::sleep_for(1200ms);  // a second with no call: it rests
  ASSERT_TRUE(watchdog_switches()) << "the watchdog thread runs once an isolate exists";
  const long resting = *watchdog_switches();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(*watchdog_switches(), resting) << "it woke while no call ran (every 5 ms before)";

  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ((*instance)->call(*spin, {}, nullptr), CallStatus::Timeout);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 30ms);
  EXPECT_LT(took, 2s);
  EXPECT_GT(*watchdog_switches(), resting);
}

}  // namespace
}  // namespace vx::adapters::wasm
