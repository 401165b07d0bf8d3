#include "proxy/runtime_holder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/std_regex_compiler.h"

namespace vx::proxy {
namespace {

// A snapshot whose one direct_response route is named after `n`.
std::shared_ptr<const Runtime> runtime_named(int n) {
  auto config = std::make_shared<core::config::Config>();
  core::config::Route route;
  route.name = "v" + std::to_string(n);
  route.match.path_prefix = "/";
  route.direct_response = core::config::DirectResponse{};
  config->routes.push_back(std::move(route));
  testing::StdRegexCompiler regex;
  auto built = Runtime::build(config, regex, core::SteadyClock::now());
  EXPECT_TRUE(built.has_value());
  return *built;
}

TEST(RuntimeHolderTest, AWorkerSeesTheNewSnapshotOnceItsGenerationMoved) {
  RuntimeHolder holder;
  WorkerRuntime worker(holder);
  EXPECT_EQ(worker.get(), nullptr);
  auto first = runtime_named(1);
  holder.publish(first);
  EXPECT_EQ(worker.get(), first);
  auto second = runtime_named(2);
  holder.publish(second);
  EXPECT_EQ(worker.get(), second);
  EXPECT_EQ(first.use_count(), 1);  // the worker let go of the old one
}

// The swap's threading contract (make test-tsan checks it): the control thread publishes
// while workers read their cached snapshot on every request, and a snapshot a worker holds
// stays whole however many reloads pass.
TEST(RuntimeHolderTest, WorkersReadWholeSnapshotsWhileTheControlThreadPublishes) {
  constexpr int kReloads = 50;
  std::vector<std::shared_ptr<const Runtime>> runtimes;
  for (int i = 0; i < kReloads; ++i) runtimes.push_back(runtime_named(i));
  RuntimeHolder holder;
  holder.publish(runtimes[0]);
  std::atomic<bool> done{false};
  auto worker = [&] {
    WorkerRuntime cache(holder);
    int last = 0;
    for (;;) {
      // Read before get(): once the publisher is done, this get() sees the last snapshot.
      const bool finished = done.load(std::memory_order_acquire);
      const std::shared_ptr<const Runtime>& runtime = cache.get();
      const int n = std::stoi(runtime->config().routes.at(0).name.substr(1));
      EXPECT_GE(n, last);  // a worker never goes back to an older config
      last = n;
      if (finished) break;
    }
    EXPECT_EQ(last, kReloads - 1);
  };
  std::thread a(worker), b(worker);
  for (int i = 1; i < kReloads; ++i) holder.publish(runtimes[i]);
  done.store(true, std::memory_order_release);
  a.join();
  b.join();
}

}  // namespace
}  // namespace vx::proxy
