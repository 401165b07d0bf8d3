#include "adapters/ratelimit/redis_gcra_script.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>

namespace vx::adapters::ratelimit {
namespace {

using namespace std::chrono_literals;

// A reply as hiredis builds it from the bytes a Redis server sends.
std::unique_ptr<redisReply, void (*)(void*)> reply_of(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK);
  redisReaderFree(reader);
  return {static_cast<redisReply*>(reply), freeReplyObject};
}

const core::TimePoint kNow{720h};

TEST(RedisGcraScriptTest, ReadsTheScriptsFourNumbers) {
  auto d = parse_gcra_reply(reply_of("*4\r\n:1\r\n:19\r\n:0\r\n:50000000\r\n").get(), kNow, 20);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(d->limit, 20u);
  EXPECT_EQ(d->remaining, 19u);
  EXPECT_EQ(d->retry_after, 0ns);
  EXPECT_EQ(d->reset_after, 50ms);
  EXPECT_EQ(d->new_tat, kNow + 50ms);
}

TEST(RedisGcraScriptTest, RefusesRepliesOfAnotherShape) {
  EXPECT_FALSE(parse_gcra_reply(reply_of("*3\r\n:1\r\n:1\r\n:1\r\n").get(), kNow, 20));
  EXPECT_FALSE(parse_gcra_reply(reply_of("*4\r\n$1\r\n1\r\n:1\r\n:1\r\n:1\r\n").get(), kNow, 20));
  EXPECT_FALSE(parse_gcra_reply(reply_of("*4\r\n:1\r\n:-1\r\n:1\r\n:1\r\n").get(), kNow, 20));
  EXPECT_FALSE(parse_gcra_reply(reply_of("-ERR no\r\n").get(), kNow, 20));
  EXPECT_FALSE(parse_gcra_reply(nullptr, kNow, 20));
}

// Found by tests/fuzz/redis_reply_fuzz.cc: 2^63 - 1 as reset_after overflowed now + reset_after
// (UBSan), and remaining over the limit broke RateLimit-Remaining <= RateLimit-Limit.
TEST(RedisGcraScriptTest, RefusesNumbersTheScriptCannotReturn) {
  const std::string max = std::to_string(core::ratelimit::kMaxWindowNs);
  const std::string over = std::to_string(core::ratelimit::kMaxWindowNs + 1);
  EXPECT_TRUE(parse_gcra_reply(reply_of("*4\r\n:0\r\n:0\r\n:" + max + "\r\n:" + max + "\r\n").get(),
                               kNow, 20));
  EXPECT_FALSE(parse_gcra_reply(reply_of("*4\r\n:0\r\n:0\r\n:1\r\n:9223372036854775807\r\n").get(),
                                kNow, 20));
  EXPECT_FALSE(
      parse_gcra_reply(reply_of("*4\r\n:0\r\n:0\r\n:" + over + "\r\n:1\r\n").get(), kNow, 20));
  EXPECT_FALSE(parse_gcra_reply(reply_of("*4\r\n:1\r\n:21\r\n:0\r\n:1\r\n").get(), kNow, 20));
  EXPECT_FALSE(parse_gcra_reply(reply_of("*4\r\n:2\r\n:1\r\n:0\r\n:1\r\n").get(), kNow, 20));
}

}  // namespace
}  // namespace vx::adapters::ratelimit
