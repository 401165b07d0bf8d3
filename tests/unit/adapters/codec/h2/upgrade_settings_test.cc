#include "adapters/codec/h2/upgrade_settings.h"

#include <gtest/gtest.h>

namespace vx::adapters::h2 {
namespace {

TEST(UpgradeSettingsTest, DecodesWholeSettingsWithOrWithoutPadding) {
  // MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 65535 (curl's HTTP2-Settings).
  const auto payload = decode_http2_settings("AAMAAABkAAQAAP__");
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->size(), 12u);
  EXPECT_EQ(decode_http2_settings("AAMAAABk"), std::string("\x00\x03\x00\x00\x00\x64", 6));
  EXPECT_EQ(decode_http2_settings("AAMAAABk=="), decode_http2_settings("AAMAAABk"));
  EXPECT_EQ(decode_http2_settings(""), std::string());  // no settings: the defaults
}

TEST(UpgradeSettingsTest, RefusesWhatIsNotBase64urlOrNotWholeSettings) {
  EXPECT_FALSE(decode_http2_settings("!!!not-base64!!!"));
  EXPECT_FALSE(decode_http2_settings("AAMAAABkAAQAAP+/"));  // base64, not base64url
  EXPECT_FALSE(decode_http2_settings("AAMAAABkAAQ"));       // 8 bytes
  EXPECT_FALSE(decode_http2_settings("AAMAAABkAAQAAP__AA"));
}

TEST(UpgradeSettingsTest, RefusesValuesTheProtocolForbids) {
  EXPECT_FALSE(decode_http2_settings("AAIAAAAC"));  // ENABLE_PUSH 2
  EXPECT_FALSE(decode_http2_settings("AASAAAAA"));  // INITIAL_WINDOW_SIZE 2^31
  EXPECT_FALSE(decode_http2_settings("AAUAAAAA"));  // MAX_FRAME_SIZE 0
  EXPECT_TRUE(decode_http2_settings("AAUAAEAA"));   // MAX_FRAME_SIZE 16384
  EXPECT_TRUE(decode_http2_settings("AP8AAAAF"));   // an unknown setting is ignored
}

}  // namespace
}  // namespace vx::adapters::h2
