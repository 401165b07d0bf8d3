#include "adapters/wasm/context_table.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace vx::adapters::wasm {
namespace {

TEST(ContextTableTest, FindsWhatIsOpenAndNothingElse) {
  ContextTable table;
  EXPECT_EQ(table.find(2), nullptr);
  Context& a = table.open(2);
  Context& b = table.open(3);
  EXPECT_EQ(a.id, 2u);
  EXPECT_EQ(table.find(2), &a);
  EXPECT_EQ(table.find(3), &b);
  EXPECT_EQ(table.find(4), nullptr);
  EXPECT_EQ(table.find(0), nullptr);
  EXPECT_EQ(table.size(), 2u);
  table.close(2);
  EXPECT_EQ(table.find(2), nullptr);
  EXPECT_EQ(table.find(3), &b);
  table.close(2);  // closing what is not open changes nothing
  EXPECT_EQ(table.size(), 1u);
}

TEST(ContextTableTest, ReusesClosedContextsFresh) {
  ContextTable table;
  Context& first = table.open(2);
  first.responded = true;
  first.in_response = true;
  table.close(2);
  Context& second = table.open(3);
  EXPECT_EQ(&second, &first);  // no allocation for the next stream
  EXPECT_EQ(second.id, 3u);
  EXPECT_FALSE(second.responded);
  EXPECT_FALSE(second.in_response);
  EXPECT_EQ(second.stream, nullptr);
}

TEST(ContextTableTest, ContextsStayPutWhileTheTableGrows) {
  ContextTable table;
  Context& early = table.open(7);
  early.responded = true;
  for (uint32_t id = 100; id < 1100; ++id) table.open(id);
  EXPECT_EQ(table.find(7), &early);
  EXPECT_TRUE(early.responded);
  for (uint32_t id = 100; id < 1100; ++id) ASSERT_NE(table.find(id), nullptr) << id;
  EXPECT_EQ(table.size(), 1001u);
}

// Ids that share their low bits probe past each other; closing one in the middle of such a run
// must leave the others findable (the backward shift), including runs that wrap the index.
TEST(ContextTableTest, CollidingIdsSurviveClosesInAnyOrder) {
  ContextTable table;
  std::map<uint32_t, Context*> open;
  std::mt19937 random(14);
  // Multiples of 4096 all land on one home slot of a small index; the +31s on the last one, so
  // their runs wrap.
  for (uint32_t id = 4096; open.size() < 6; id += 4096) open[id] = &table.open(id);
  for (uint32_t id = 4096 + 31; open.size() < 9; id += 4096) open[id] = &table.open(id);
  for (int round = 0; round < 2000; ++round) {
    auto it = open.begin();
    std::advance(it, random() % open.size());
    table.close(it->first);
    open.erase(it);
    for (const auto& [id, c] : open) ASSERT_EQ(table.find(id), c) << "round " << round;
    uint32_t id = 0;
    do {
      id = (1 + random() % 8) * 4096 + (random() % 2 ? 31 : 0);
    } while (open.count(id));
    open[id] = &table.open(id);
    ASSERT_EQ(table.size(), open.size());
  }
}

// A long run of requests against a few long-lived streams: the shape of a real worker.
TEST(ContextTableTest, AgreesWithAMapOverManyStreams) {
  ContextTable table;
  std::map<uint32_t, Context*> open;
  std::mt19937 random(7);
  uint32_t next = 2;
  for (int step = 0; step < 50000; ++step) {
    if (open.size() < 3 || random() % 2) {
      const uint32_t id = next++;
      open[id] = &table.open(id);
    } else {
      auto it = open.begin();
      std::advance(it, random() % std::min<size_t>(open.size(), 4));
      table.close(it->first);
      open.erase(it);
    }
  }
  ASSERT_EQ(table.size(), open.size());
  for (const auto& [id, c] : open) ASSERT_EQ(table.find(id), c);
  for (uint32_t id = 2; id < next; ++id) {
    if (!open.count(id)) {
      ASSERT_EQ(table.find(id), nullptr) << id;
    }
  }
}

}  // namespace
}  // namespace vx::adapters::wasm
