#include "core/filter/head_editor.h"

#include <string>

#include <gtest/gtest.h>

namespace vx::core::filter {
namespace {

using http::Header;

http::RequestHead request_with(http::HeaderList headers) {
  http::RequestHead head;
  head.method = "GET";
  head.target = "/a?b=1";
  head.headers = std::move(headers);
  return head;
}

TEST(HeadEditorTest, SetReplacesEveryFieldOfTheNameWhereTheFirstWas) {
  auto head = request_with({{"Accept", "a"}, {"X-Tag", "1"}, {"via", "v"}, {"x-tag", "2"}});
  StringArena arena;
  RequestHeadEditor editor(head, arena);
  EXPECT_TRUE(editor.set("x-tag", "3"));
  ASSERT_EQ(head.headers.size(), 3u);
  EXPECT_EQ(head.headers[1].name, "x-tag");
  EXPECT_EQ(head.headers[1].value, "3");
  EXPECT_EQ(head.headers[2].name, "via");
}

TEST(HeadEditorTest, SetAppendsWhenAbsentAndAddKeepsDuplicates) {
  auto head = request_with({{"accept", "a"}});
  StringArena arena;
  RequestHeadEditor editor(head, arena);
  EXPECT_TRUE(editor.set("x-new", "1"));
  EXPECT_TRUE(editor.add("x-new", "2"));
  ASSERT_EQ(head.headers.size(), 3u);
  EXPECT_EQ(head.headers[1].value, "1");
  EXPECT_EQ(head.headers[2].value, "2");
  EXPECT_EQ(editor.get("X-NEW"), "1");
}

TEST(HeadEditorTest, ValuesAreCopiedSoTheCallerMayFreeThem) {
  auto head = request_with({});
  StringArena arena;
  RequestHeadEditor editor(head, arena);
  {
    std::string name = "x-temp", value = "short-lived";
    editor.set(name, value);
    name.assign("zzzzzz");
    value.assign("zzzzzzzzzzz");
  }
  EXPECT_EQ(head.headers[0].name, "x-temp");
  EXPECT_EQ(head.headers[0].value, "short-lived");
}

TEST(HeadEditorTest, RemoveDropsEveryFieldOfTheNameInAnyCase) {
  auto head = request_with({{"Cookie", "a"}, {"accept", "b"}, {"cookie", "c"}});
  StringArena arena;
  RequestHeadEditor editor(head, arena);
  EXPECT_EQ(editor.remove("COOKIE"), 2u);
  ASSERT_EQ(head.headers.size(), 1u);
  EXPECT_EQ(head.headers[0].name, "accept");
  EXPECT_EQ(editor.remove("cookie"), 0u);
}

TEST(HeadEditorTest, RefusesValuesThatWouldSplitTheMessage) {
  auto head = request_with({});
  StringArena arena;
  RequestHeadEditor editor(head, arena);
  EXPECT_FALSE(editor.set("x-evil", "a\r\nx-injected: 1"));
  EXPECT_FALSE(editor.add("x-evil", "a\nb"));
  EXPECT_FALSE(editor.add("x-evil", std::string_view("a\0b", 3)));
  EXPECT_FALSE(editor.add("bad name", "v"));
  EXPECT_FALSE(editor.add("", "v"));
  EXPECT_TRUE(editor.add("x-ok", "tab\tand obs-text \xe9"));
  ASSERT_EQ(head.headers.size(), 1u);
}

// The check reads long values a word at a time: a forbidden byte is found at every position
// of a word and past the last whole one, and bytes that merely resemble one pass.
TEST(HeadEditorTest, FindsAForbiddenByteAnywhereInALongValue) {
  const std::string fine = "0123456789abcdefghij\t \x80\xff~!xyz";  // 36 bytes
  EXPECT_TRUE(is_valid_field_value(fine));
  for (size_t at = 0; at < fine.size(); ++at) {
    for (const char bad : {'\r', '\n', '\0', '\x1f', '\x7f', '\x01'}) {
      std::string value = fine;
      value[at] = bad;
      EXPECT_FALSE(is_valid_field_value(value)) << "byte " << int(bad) << " at " << at;
    }
    std::string tab = fine;
    tab[at] = '\t';
    EXPECT_TRUE(is_valid_field_value(tab)) << "tab at " << at;
  }
  EXPECT_TRUE(is_valid_field_value(std::string(64, '\x7e')));
  EXPECT_TRUE(is_valid_field_value(std::string(64, '\x80')));
  EXPECT_TRUE(is_valid_field_value(std::string(64, ' ')));
  EXPECT_TRUE(is_valid_field_value(""));
}

// Short values are read as two overlapping half-words, the rest as words with the last one
// overlapping: at every length, a forbidden byte at every position is found.
TEST(HeadEditorTest, FindsAForbiddenByteInAValueOfAnyLength) {
  for (size_t length = 1; length <= 24; ++length) {
    const std::string fine(length, 'v');
    EXPECT_TRUE(is_valid_field_value(fine)) << length;
    for (size_t at = 0; at < length; ++at) {
      for (const char bad : {'\r', '\n', '\0', '\x7f'}) {
        std::string value = fine;
        value[at] = bad;
        EXPECT_FALSE(is_valid_field_value(value)) << "length " << length << " at " << at;
      }
      std::string tab = fine;
      tab[at] = '\t';
      EXPECT_TRUE(is_valid_field_value(tab)) << "length " << length << " tab at " << at;
    }
  }
}

TEST(HeadEditorTest, RefusesTheFramingFieldsThePipelineOwns) {
  auto head = request_with({{"content-length", "5"}});
  StringArena arena;
  RequestHeadEditor editor(head, arena);
  EXPECT_FALSE(editor.set("Content-Length", "10"));
  EXPECT_FALSE(editor.add("transfer-encoding", "chunked"));
  EXPECT_EQ(head.headers[0].value, "5");
  EXPECT_EQ(editor.remove("content-length"), 1u);  // removing is how the pipeline unframes
}

TEST(HeadEditorTest, SetsMethodAndTargetWhenWellFormed) {
  auto head = request_with({});
  StringArena arena;
  RequestHeadEditor editor(head, arena);
  EXPECT_TRUE(editor.set_method("PURGE"));
  EXPECT_TRUE(editor.set_target("/v2/items?x=%20"));
  EXPECT_EQ(head.method, "PURGE");
  EXPECT_EQ(head.target, "/v2/items?x=%20");
  EXPECT_EQ(head.path(), "/v2/items");
  EXPECT_FALSE(editor.set_method("GE T"));
  EXPECT_FALSE(editor.set_target("relative"));
  EXPECT_FALSE(editor.set_target("/a b"));
  EXPECT_FALSE(editor.set_target("/a#frag"));
  EXPECT_FALSE(editor.set_target("/a\r\n"));
  EXPECT_EQ(head.target, "/v2/items?x=%20");
}

TEST(HeadEditorTest, SetsOnlyAFinalResponseStatus) {
  http::ResponseHead head;
  head.status = 200;
  head.reason = "Fine";
  StringArena arena;
  ResponseHeadEditor editor(head, arena);
  EXPECT_TRUE(editor.set_status(503));
  EXPECT_EQ(head.status, 503);
  EXPECT_TRUE(head.reason.empty());
  EXPECT_FALSE(editor.set_status(101));
  EXPECT_FALSE(editor.set_status(600));
  EXPECT_EQ(head.status, 503);
}

}  // namespace
}  // namespace vx::core::filter

namespace vx::core::filter {
namespace {

TEST(HeadEditorTest, SetsTheAuthorityAndTheHostThatCarriesIt) {
  http::RequestHead head;
  head.authority = "old.example";
  head.headers = {{"host", "old.example"}, {"accept", "*/*"}};
  StringArena arena;
  RequestHeadEditor editor(head, arena);
  EXPECT_TRUE(editor.set_authority("new.example:8443"));
  EXPECT_EQ(head.authority, "new.example:8443");
  EXPECT_EQ(head.headers[0].value, "new.example:8443");
  EXPECT_FALSE(editor.set_authority("user@evil.example"));
  EXPECT_FALSE(editor.set_authority(""));
  EXPECT_EQ(head.authority, "new.example:8443");
}

}  // namespace
}  // namespace vx::core::filter
