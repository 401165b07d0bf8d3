#include "proxy/streamed_request_body.h"

#include <gtest/gtest.h>

namespace vx::proxy {
namespace {

using core::http::ErrorKind;

std::string joined(const ports::BodyChunk& chunk) {
  std::string out;
  for (auto piece : chunk.pieces) out.append(piece);
  return out;
}

TEST(StreamedRequestBodyTest, CreditsWhatThePipelineTookOnlyAtTheNextRead) {
  StreamedRequestBody body;
  EXPECT_FALSE(body.next(0, false, false));  // nothing yet: wait
  body.append("abc");
  body.append("de");
  auto first = body.next(0, false, false);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(joined(**first), "abcde");
  EXPECT_FALSE((*first)->last);
  EXPECT_EQ(body.unread_bytes(), 5u);  // handed out, not credited yet
  body.append("f");
  EXPECT_EQ(body.take_credit(), 5u);
  EXPECT_EQ(body.take_credit(), 0u);
  body.end();
  auto second = body.next(0, false, false);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(joined(**second), "f");
  EXPECT_TRUE((*second)->last);
  EXPECT_EQ((*second)->trailers, nullptr);
}

TEST(StreamedRequestBodyTest, EndsWithTrailersOnTheLastChunk) {
  StreamedRequestBody body;
  body.append("x");
  body.trailers().push_back({"grpc-status", "0"});
  body.end();
  auto chunk = body.next(0, false, false);
  ASSERT_TRUE(chunk && *chunk);
  ASSERT_NE((*chunk)->trailers, nullptr);
  EXPECT_EQ((*chunk)->trailers->front().value, "0");
  body.take_credit();
  auto end = body.next(0, false, false);
  ASSERT_TRUE(end && *end);
  EXPECT_TRUE((*end)->last && (*end)->pieces.empty() && (*end)->trailers);
}

TEST(StreamedRequestBodyTest, RefusesABodyPastTheLimitAndReportsResetAndTimeout) {
  StreamedRequestBody body;
  body.append("12345");
  auto over = body.next(4, false, false);
  ASSERT_TRUE(over && !*over);
  EXPECT_EQ(over->error().kind, ErrorKind::BodyTooLarge);

  StreamedRequestBody reset;
  auto closed = reset.next(0, true, false);
  ASSERT_TRUE(closed && !*closed);
  EXPECT_EQ(closed->error().kind, ErrorKind::DownstreamClosed);
  auto expired = reset.next(0, false, true);
  ASSERT_TRUE(expired && !*expired);
  EXPECT_EQ(expired->error().kind, ErrorKind::RequestTimeout);
}

TEST(StreamedRequestBodyTest, ClearKeepsCapacityForTheNextStream) {
  StreamedRequestBody body;
  body.append(std::string(1000, 'a'));
  body.end();
  body.clear();
  EXPECT_GE(body.capacity(), 1000u);
  EXPECT_EQ(body.unread_bytes(), 0u);
  EXPECT_FALSE(body.ended());
  EXPECT_FALSE(body.next(0, false, false));
}

}  // namespace
}  // namespace vx::proxy
