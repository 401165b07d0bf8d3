#include "adapters/codec/h2/request_head.h"

#include <gtest/gtest.h>

namespace vx::adapters::h2 {
namespace {

using core::http::BodyFraming;
using core::http::ErrorKind;

HeaderBlock block(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  HeaderBlock b;
  for (auto [name, value] : fields) b.add(name, value);
  return b;
}

TEST(RequestHeadTest, ReadsTheHeadJoiningCookiesAndAddingHost) {
  const HeaderBlock b = block({{":method", "POST"},
                               {":scheme", "https"},
                               {":authority", "a.test"},
                               {":path", "/x?y=1"},
                               {"cookie", "a=1"},
                               {"content-length", "5"},
                               {"cookie", "b=2"},
                               {"expect", "100-continue"}});
  ASSERT_FALSE(check_request_head(b, std::nullopt));
  std::string cookie;
  core::http::RequestHead head;
  read_request_head(b, false, cookie, head);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.target, "/x?y=1");
  EXPECT_EQ(head.authority, "a.test");
  EXPECT_EQ(core::http::find_header(head.headers, "cookie"), "a=1; b=2");
  EXPECT_EQ(core::http::find_header(head.headers, "host"), "a.test");
  EXPECT_EQ(head.framing, BodyFraming::ContentLength);
  EXPECT_EQ(head.content_length, 5u);
  EXPECT_TRUE(head.expect_continue);

  // The head views the block's bytes: the block must outlive it.
  const HeaderBlock get =
      block({{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "h"}});
  core::http::RequestHead ended;
  read_request_head(get, true, cookie, ended);
  EXPECT_EQ(ended.authority, "h");
  EXPECT_EQ(ended.framing, BodyFraming::None);
}

TEST(RequestHeadTest, RefusesWhatTheLibrariesLeaveToTheApplication) {
  auto error = [](const HeaderBlock& b) {
    const core::http::Error refusal{ErrorKind::BadRequest, "no CONNECT"};
    auto e = check_request_head(b, refusal);
    return e ? std::string(e->detail) : std::string();
  };
  EXPECT_EQ(error(block({{":method", "GET"},
                         {":scheme", "https"},
                         {":authority", "a.test"},
                         {":path", "/"},
                         {"host", "b.test"}})),
            "Host and :authority disagree");
  EXPECT_EQ(error(block({{":method", "GET"}, {":scheme", "ftp"}, {":path", "/"}})),
            "invalid :scheme");
  EXPECT_EQ(error(block({{":method", "GET"}, {":scheme", "https"}, {":path", "/a#b"}})),
            ":path with a fragment");
  EXPECT_EQ(error(block({{":method", "GET"}, {":scheme", "https"}, {":path", "*"}})),
            "invalid :path");
  EXPECT_EQ(error(block({{":method", "CONNECT"}, {":authority", "a.test:443"}})), "no CONNECT");
  HeaderBlock big;
  big.too_large = true;
  auto e = check_request_head(big, std::nullopt);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ErrorKind::HeadersTooLarge);
}

}  // namespace
}  // namespace vx::adapters::h2
