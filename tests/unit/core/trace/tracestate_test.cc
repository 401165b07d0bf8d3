#include "core/trace/tracestate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vx::core::trace {
namespace {

bool valid(std::vector<std::string_view> fields) {
  return valid_tracestate(fields);
}

TEST(TraceStateTest, AcceptsTheSpecExamples) {
  EXPECT_TRUE(valid({"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}));
  EXPECT_TRUE(valid({"rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE"}));  // two fields, one list
  EXPECT_TRUE(valid({"fw529a3039@dt=00f067aa0ba902b7"}));              // tenant@system
  EXPECT_TRUE(valid({" a=1 ,\tb=2 "}));                                // OWS around members
  EXPECT_TRUE(valid({"a=1,,b=2"}));                                    // empty members
  EXPECT_TRUE(valid({""}));
  EXPECT_TRUE(valid({"a=with space inside"}));
}

TEST(TraceStateTest, RefusesBadKeysAndValues) {
  EXPECT_FALSE(valid({"Upper=1"}));
  EXPECT_FALSE(valid({"1abc=1"}));  // a simple key starts with a letter
  EXPECT_FALSE(valid({"a=1,noequals"}));
  EXPECT_FALSE(valid({"a="}));        // empty value
  EXPECT_FALSE(valid({"a=x\x01y"}));  // a control character
  EXPECT_FALSE(valid({"a=b=c"}));
  EXPECT_FALSE(valid({"t@toolongsystemid=1"}));  // system-id at most 14
  EXPECT_FALSE(valid({"@dt=1"}));
  EXPECT_FALSE(valid({"a=" + std::string(257, 'x')}));
  EXPECT_FALSE(valid({std::string(257, 'k') + "=1"}));
}

TEST(TraceStateTest, RefusesDuplicateKeys) {
  EXPECT_FALSE(valid({"a=1,b=2,a=3"}));
  EXPECT_FALSE(valid({"a=1", "a=2"}));
}

TEST(TraceStateTest, AllowsThirtyTwoMembersAndNoMore) {
  std::string list;
  for (int i = 0; i < 32; ++i) list += "k" + std::to_string(i) + "=v,";
  EXPECT_TRUE(valid({list}));
  list += "k32=v";
  EXPECT_FALSE(valid({list}));
}

}  // namespace
}  // namespace vx::core::trace
