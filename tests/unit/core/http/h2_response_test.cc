#include "core/http/h2_response.h"

#include <gtest/gtest.h>

namespace vx::core::http {
namespace {

TEST(H2ResponseTest, ParsesThreeDigitStatusOnly) {
  EXPECT_EQ(parse_h2_status("200"), 200);
  EXPECT_EQ(parse_h2_status("103"), 103);
  EXPECT_EQ(parse_h2_status("20"), 0);
  EXPECT_EQ(parse_h2_status("2000"), 0);
  EXPECT_EQ(parse_h2_status("2x0"), 0);
  EXPECT_EQ(parse_h2_status("099"), 0);
}

TEST(H2ResponseTest, ContentLengthFromUpstreamIsKept) {
  const auto f = h2_response_framing(200, "1234", false, false);
  EXPECT_TRUE(f.valid);
  EXPECT_EQ(f.framing, BodyFraming::ContentLength);
  EXPECT_EQ(f.content_length, 1234u);
}

TEST(H2ResponseTest, UnknownLengthBecomesChunked) {
  EXPECT_EQ(h2_response_framing(200, std::nullopt, false, false).framing, BodyFraming::Chunked);
}

TEST(H2ResponseTest, HeadersEndingTheStreamHaveNoBody) {
  EXPECT_EQ(h2_response_framing(200, std::nullopt, true, false).framing, BodyFraming::None);
}

TEST(H2ResponseTest, HeadAnswerKeepsAnnouncedLength) {
  const auto f = h2_response_framing(200, "10", true, true);
  EXPECT_EQ(f.framing, BodyFraming::ContentLength);
  EXPECT_EQ(f.content_length, 10u);
  EXPECT_EQ(h2_response_framing(200, std::nullopt, true, true).framing, BodyFraming::None);
}

TEST(H2ResponseTest, NoBodyStatusesIgnoreLength) {
  EXPECT_EQ(h2_response_framing(204, "5", false, false).framing, BodyFraming::None);
  EXPECT_EQ(h2_response_framing(304, std::nullopt, false, false).framing, BodyFraming::None);
  EXPECT_EQ(h2_response_framing(100, std::nullopt, false, false).framing, BodyFraming::None);
}

TEST(H2ResponseTest, MalformedContentLengthIsInvalid) {
  EXPECT_FALSE(h2_response_framing(200, "12a", false, false).valid);
  EXPECT_FALSE(h2_response_framing(200, "", false, false).valid);
  EXPECT_FALSE(h2_response_framing(200, "1,1", false, false).valid);
}

}  // namespace
}  // namespace vx::core::http
