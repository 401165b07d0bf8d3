#include "core/http/upgrade.h"

#include <gtest/gtest.h>

namespace vx::core::http {
namespace {

TEST(UpgradeTest, AnAnswerMustNameOneProtocolTheClientAskedFor) {
  EXPECT_TRUE(upgrade_answer_matches("websocket", "websocket"));
  EXPECT_TRUE(upgrade_answer_matches("websocket", "WebSocket"));
  EXPECT_TRUE(upgrade_answer_matches("foo/1, websocket", " websocket "));
  EXPECT_FALSE(upgrade_answer_matches("websocket", std::nullopt));
  EXPECT_FALSE(upgrade_answer_matches("websocket", "h2c"));
  EXPECT_FALSE(upgrade_answer_matches("websocket", "websocket/2"));
  EXPECT_FALSE(upgrade_answer_matches("websocket", "websocket, h2c"));
  EXPECT_FALSE(upgrade_answer_matches("websocket", ""));
  EXPECT_FALSE(upgrade_answer_matches("", "websocket"));
}

}  // namespace
}  // namespace vx::core::http
