#include "core/filter/recycled.h"

#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace vx::core::filter {
namespace {

struct Base {
  virtual ~Base() = default;
};
struct PerStream final : Base, Recycled<PerStream, 4> {
  explicit PerStream(int v) : value(v) {}
  int value;
};

TEST(RecycledTest, TheNextObjectReusesTheLastOnesMemory) {
  auto first = std::make_unique<PerStream>(1);
  const void* where = first.get();
  std::unique_ptr<Base> as_base = std::move(first);
  as_base.reset();  // deleted through its base: still recycled
  EXPECT_EQ(PerStream::spare_count(), 1u);
  auto second = std::make_unique<PerStream>(2);
  EXPECT_EQ(static_cast<const void*>(second.get()), where);
  EXPECT_EQ(second->value, 2);
  EXPECT_EQ(PerStream::spare_count(), 0u);
}

TEST(RecycledTest, KeepsNoMoreThanItsCap) {
  std::vector<std::unique_ptr<PerStream>> many;
  for (int i = 0; i < 10; ++i) many.push_back(std::make_unique<PerStream>(i));
  many.clear();
  EXPECT_EQ(PerStream::spare_count(), 4u);  // the other six went back to the heap
  for (int i = 0; i < 10; ++i) many.push_back(std::make_unique<PerStream>(i));
  EXPECT_EQ(PerStream::spare_count(), 0u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(many[i]->value, i);
  many.clear();
}

TEST(RecycledTest, EachThreadKeepsItsOwnAndFreesThemWhenItEnds) {
  auto made_here = std::make_unique<PerStream>(1);
  const size_t here_before = PerStream::spare_count();
  std::thread([&] {
    EXPECT_EQ(PerStream::spare_count(), 0u);
    made_here.reset();  // freed on this thread: joins this thread's spares
    EXPECT_EQ(PerStream::spare_count(), 1u);
    auto again = std::make_unique<PerStream>(3);
    EXPECT_EQ(PerStream::spare_count(), 0u);
    again.reset();
  }).join();  // its spare is freed as it ends (LeakSanitizer would tell otherwise)
  EXPECT_EQ(PerStream::spare_count(), here_before);
}

}  // namespace
}  // namespace vx::core::filter
