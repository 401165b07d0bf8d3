#include "adapters/net/buffer_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace vx::adapters::net {
namespace {

TEST(LentBufferTest, HoldsNothingUntilTakenAndGivesItBack) {
  LentBuffer buffer;
  EXPECT_FALSE(buffer.held());
  EXPECT_EQ(buffer.size(), 0u);
  buffer.take();
  ASSERT_TRUE(buffer.held());
  EXPECT_EQ(buffer.size(), BufferPool::kBufferBytes);
  char* first = buffer.data();
  buffer.give_back();
  EXPECT_FALSE(buffer.held());
  // The busy path: the next take finds the same warm buffer in the worker's pool.
  buffer.take();
  EXPECT_EQ(buffer.data(), first);
}

TEST(LentBufferTest, TakeTwiceKeepsTheBufferItHolds) {
  LentBuffer buffer;
  buffer.take();
  char* held = buffer.data();
  std::memcpy(held, "abc", 3);
  buffer.take();
  EXPECT_EQ(buffer.data(), held);
  EXPECT_EQ(std::memcmp(buffer.data(), "abc", 3), 0);
}

TEST(LentBufferTest, GrowKeepsTheBytesAndIsFreedNotPooled) {
  const size_t pooled_before = BufferPool::local().free_buffers();
  ASSERT_LT(pooled_before, BufferPool::kKeep);
  const size_t pooled_after_grow = std::max<size_t>(pooled_before, 1);
  {
    LentBuffer buffer;
    buffer.take();
    std::memset(buffer.data(), 'x', buffer.size());
    buffer.grow(buffer.size());
    ASSERT_EQ(buffer.size(), 2 * BufferPool::kBufferBytes);
    for (size_t i = 0; i < BufferPool::kBufferBytes; ++i) ASSERT_EQ(buffer.data()[i], 'x');
    // The pool buffer it grew from went back to the pool.
    EXPECT_EQ(BufferPool::local().free_buffers(), pooled_after_grow);
  }
  // The grown one is freed, not pooled: the pool holds only buffers of its own size.
  EXPECT_EQ(BufferPool::local().free_buffers(), pooled_after_grow);
}

TEST(BufferPoolTest, KeepsABoundedNumberOfFreeBuffers) {
  std::vector<std::unique_ptr<LentBuffer>> many;
  for (size_t i = 0; i < BufferPool::kKeep * 3; ++i) {
    many.push_back(std::make_unique<LentBuffer>());
    many.back()->take();
  }
  EXPECT_EQ(BufferPool::local().free_buffers(), 0u);
  many.clear();  // each gives its buffer back on destruction
  EXPECT_EQ(BufferPool::local().free_buffers(), BufferPool::kKeep);
}

}  // namespace
}  // namespace vx::adapters::net
