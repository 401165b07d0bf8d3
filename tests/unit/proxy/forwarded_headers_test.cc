#include "proxy/forwarded_headers.h"

#include <gtest/gtest.h>

namespace vx::proxy {
namespace {

TEST(ForwardedHeadersTest, AppendsChainsAndKeepsTheClientsRequestId) {
  core::http::RequestHead head;
  head.scheme = "http";
  head.headers = {{"Host", "h"},
                  {"X-Forwarded-For", "203.0.113.7"},
                  {"Via", "1.0 other"},
                  {"X-Forwarded-For", "198.51.100.1"},
                  {"X-Forwarded-Proto", "https"},
                  {"X-Request-Id", "abc"},
                  {"Expect", "100-continue"},
                  {"Connection", "close"}};
  core::Xoshiro256 random(1);
  std::string id_storage, scratch;
  const std::string_view id = request_id_for(head, id_storage, random);
  EXPECT_EQ(id, "abc");
  rewrite_forwarded_headers(head, scratch, "127.0.0.1", id);
  EXPECT_EQ(core::http::find_header(head.headers, "x-forwarded-for"),
            "203.0.113.7, 198.51.100.1, 127.0.0.1");
  EXPECT_EQ(core::http::find_header(head.headers, "via"), "1.0 other, 1.1 vortex");
  EXPECT_EQ(core::http::find_header(head.headers, "x-forwarded-proto"), "http");
  EXPECT_EQ(core::http::find_header(head.headers, "x-request-id"), "abc");
  EXPECT_FALSE(core::http::find_header(head.headers, "expect"));
  EXPECT_FALSE(core::http::find_header(head.headers, "connection"));
}

TEST(ForwardedHeadersTest, GeneratesADistinctIdWhenNoneCame) {
  core::http::RequestHead head;
  head.scheme = "https";
  head.headers = {{"Host", "h"}};
  core::Xoshiro256 random(7);
  std::string a, b, scratch;
  const std::string first(request_id_for(head, a, random));
  const std::string second(request_id_for(head, b, random));
  EXPECT_EQ(first.size(), 32u);
  EXPECT_NE(first, second);
  rewrite_forwarded_headers(head, scratch, "::1", a);
  EXPECT_EQ(core::http::find_header(head.headers, "x-request-id"), first);
  EXPECT_EQ(core::http::find_header(head.headers, "x-forwarded-for"), "::1");
}

}  // namespace
}  // namespace vx::proxy
