#include "adapters/codec/h1/h1_serializer.h"

#include <gtest/gtest.h>

namespace vx::adapters::h1 {
namespace {

using core::http::BodyFraming;

TEST(H1SerializerTest, WritesTheRequestLineFieldsAndFramingButNoFramingFieldsFromTheList) {
  core::http::RequestHead head;
  head.method = "POST";
  head.target = "/p";
  head.headers = {{"host", "h"}, {"content-length", "9"}, {"x-a", "1"}};
  head.framing = BodyFraming::ContentLength;
  head.content_length = 3;
  std::string out;
  append_request_head(out, head, "");
  EXPECT_EQ(out, "POST /p HTTP/1.1\r\nhost: h\r\nx-a: 1\r\ncontent-length: 3\r\n\r\n");
}

// A filter may set a field to an empty view with no data behind it (string_view{}): written as
// an empty value, and memcpy never sees the null pointer (UBSan caught it).
TEST(H1SerializerTest, AnEmptyValueWithNoDataIsWrittenEmpty) {
  core::http::ResponseHead head;
  head.status = 200;
  head.headers = {{"x-empty", std::string_view{}}};
  std::string out;
  append_response_head(out, head, BodyFraming::None, "");
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nx-empty: \r\ncontent-length: 0\r\n\r\n");
}

}  // namespace
}  // namespace vx::adapters::h1
