#include "adapters/telemetry/span_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace vx::adapters::telemetry {
namespace {

core::trace::SpanRecord numbered(uint64_t n) {
  core::trace::SpanRecord span;
  span.start_unix_ns = n;
  return span;
}

TEST(SpanQueueTest, RoundsCapacityUpAndRefusesWhenFull) {
  SpanQueue queue(5);
  EXPECT_EQ(queue.capacity(), 8u);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(queue.push(numbered(i)));
  EXPECT_FALSE(queue.push(numbered(99)));
  core::trace::SpanRecord out;
  ASSERT_TRUE(queue.pop(out));
  EXPECT_EQ(out.start_unix_ns, 0u);
  EXPECT_TRUE(queue.push(numbered(8)));  // the freed cell is reused
  for (uint64_t i = 1; i <= 8; ++i) {
    ASSERT_TRUE(queue.pop(out));
    EXPECT_EQ(out.start_unix_ns, i);
  }
  EXPECT_FALSE(queue.pop(out));
}

TEST(SpanQueueTest, ManyProducersOneConsumerLoseNothingThatWasAccepted) {
  SpanQueue queue(64);
  constexpr int kProducers = 4;
  constexpr uint64_t kEach = 20'000;
  std::atomic<uint64_t> accepted_sum{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<int> running{kProducers};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (uint64_t i = 0; i < kEach; ++i) {
        const uint64_t value = static_cast<uint64_t>(p) * kEach + i + 1;
        if (queue.push(numbered(value))) {
          accepted_sum.fetch_add(value);
          accepted.fetch_add(1);
        }
      }
      running.fetch_sub(1);
    });
  }
  uint64_t popped_sum = 0;
  uint64_t popped = 0;
  core::trace::SpanRecord out;
  for (;;) {
    if (queue.pop(out)) {
      popped_sum += out.start_unix_ns;
      ++popped;
    } else if (running.load() == 0) {
      while (queue.pop(out)) {
        popped_sum += out.start_unix_ns;
        ++popped;
      }
      break;
    }
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(popped, accepted.load());
  EXPECT_EQ(popped_sum, accepted_sum.load());
  EXPECT_GT(popped, 0u);
}

}  // namespace
}  // namespace vx::adapters::telemetry
