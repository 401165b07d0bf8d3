#include "core/filter/body_buffer.h"

#include <string>

#include <gtest/gtest.h>

namespace vx::core::filter {
namespace {

std::string all(const BodyBuffer& body) {
  std::string out;
  body.copy_to(out);
  return out;
}

TEST(BodyBufferTest, ViewsThePiecesWithoutCopying) {
  const std::string a = "hello ", b = "world";
  const std::string_view pieces[] = {a, b};
  BodyBuffer body;
  body.view(pieces);
  EXPECT_EQ(body.size(), 11u);
  ASSERT_EQ(body.pieces().size(), 2u);
  EXPECT_EQ(body.pieces()[0].data(), a.data());
  EXPECT_EQ(all(body), "hello world");
}

TEST(BodyBufferTest, ReplaceOwnsTheNewBytes) {
  const std::string a = "abc";
  const std::string_view pieces[] = {a};
  BodyBuffer body;
  body.view(pieces);
  std::string replacement = "xyz123";
  body.replace(replacement);
  replacement.assign("------");
  EXPECT_EQ(all(body), "xyz123");
  body.clear();
  EXPECT_TRUE(body.empty());
  EXPECT_TRUE(body.pieces().empty());
}

TEST(BodyBufferTest, SpliceInsertsAppendsAndReplacesRanges) {
  const std::string a = "0123", b = "4567";
  const std::string_view pieces[] = {a, b};
  BodyBuffer body;
  body.view(pieces);
  body.splice(0, 0, "<");
  EXPECT_EQ(all(body), "<01234567");
  body.splice(body.size(), 0, ">");
  EXPECT_EQ(all(body), "<01234567>");
  body.splice(3, 4, "-");
  EXPECT_EQ(all(body), "<01-67>");
  body.splice(100, 5, "!");  // clamped to the end
  EXPECT_EQ(all(body), "<01-67>!");
}

TEST(BodyBufferTest, SpliceAcceptsItsOwnBytes) {
  const std::string a = "abc";
  const std::string_view pieces[] = {a};
  BodyBuffer body;
  body.view(pieces);
  body.replace("double");
  const std::string_view own = body.pieces()[0];
  body.splice(body.size(), 0, own);
  EXPECT_EQ(all(body), "doubledouble");
}

}  // namespace
}  // namespace vx::core::filter
