#include "core/filter/string_arena.h"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vx::core::filter {
namespace {

TEST(StringArenaTest, KeepsCopiesThatOutliveTheirSource) {
  StringArena arena;
  std::string source = "x-tenant";
  const std::string_view kept = arena.keep(source);
  source.assign("overwritten");
  EXPECT_EQ(kept, "x-tenant");
}

TEST(StringArenaTest, EarlierViewsStayValidAsBlocksAreAdded) {
  StringArena arena;
  std::vector<std::string_view> views;
  for (int i = 0; i < 500; ++i) views.push_back(arena.keep("value-" + std::to_string(i)));
  const std::string big(5000, 'b');
  const std::string_view big_view = arena.keep(big);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(views[i], "value-" + std::to_string(i));
  EXPECT_EQ(big_view, big);
}

TEST(StringArenaTest, ClearKeepsOneBlockForTheNextStream) {
  StringArena arena;
  EXPECT_EQ(arena.capacity(), 0u);
  arena.keep("a");
  const size_t one_block = arena.capacity();
  arena.keep(std::string(4000, 'x'));
  EXPECT_GT(arena.capacity(), one_block);
  arena.clear();
  EXPECT_EQ(arena.capacity(), one_block);
  EXPECT_EQ(arena.keep("again"), "again");
  EXPECT_EQ(arena.capacity(), one_block);
}

TEST(StringArenaTest, ClearDropsABlockLargerThanStandard) {
  StringArena arena;
  arena.keep(std::string(4000, 'x'));
  arena.clear();
  EXPECT_EQ(arena.capacity(), 0u);
}

TEST(StringArenaTest, EmptyBytesTakeNoMemory) {
  StringArena arena;
  EXPECT_TRUE(arena.keep("").empty());
  EXPECT_EQ(arena.capacity(), 0u);
}

TEST(StringArenaTest, TakenRoomIsContiguousAndLeavesEarlierCopiesAlone) {
  StringArena arena;
  const std::string_view first = arena.keep("first");
  char* room = arena.take(2000);  // past a standard block: a block of its own
  std::memset(room, 'y', 2000);
  EXPECT_EQ(first, "first");
  EXPECT_EQ(std::string_view(room, 2000), std::string(2000, 'y'));
  char* small = arena.take(3);
  std::memcpy(small, "abc", 3);
  EXPECT_EQ(std::string_view(small, 3), "abc");
  EXPECT_EQ(std::string_view(room, 2000), std::string(2000, 'y'));
}

TEST(StringArenaTest, HoldsWhatItHandedOutAndNothingElse) {
  StringArena arena;
  const std::string outside = "outside";
  EXPECT_FALSE(arena.holds(outside));
  const std::string_view kept = arena.keep("kept");
  char* room = arena.take(2000);  // a block of its own
  EXPECT_TRUE(arena.holds(kept));
  EXPECT_TRUE(arena.holds(kept.substr(1, 2)));
  EXPECT_TRUE(arena.holds({room, 2000}));
  EXPECT_FALSE(arena.holds({room, 2001}));  // runs past what was handed out
  EXPECT_FALSE(arena.holds(outside));
  const std::string_view last = arena.keep("last");  // a third block, partly used
  EXPECT_TRUE(arena.holds(last));
  EXPECT_FALSE(arena.holds({last.data(), last.size() + 1}));
  arena.clear();
  EXPECT_FALSE(arena.holds(kept));  // handed out again from the start
}

}  // namespace
}  // namespace vx::core::filter
