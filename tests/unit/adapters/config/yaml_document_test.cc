#include "adapters/config/yaml_document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace vx::adapters::config {
namespace {

using ::testing::HasSubstr;

const YamlDocument& parsed(const core::Result<YamlDocument, YamlDocument::ParseError>& r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r.value();
}

TEST(YamlDocument, BlockAndFlowCollectionsWithLines) {
  auto r = YamlDocument::parse("a: 1\nb:\n  - x\n  - { k: v }\nc: [p, q]\n");
  const YamlNode& root = parsed(r).root();
  ASSERT_TRUE(root.is_map());
  ASSERT_EQ(root.entries().size(), 3u);
  auto [ka, va] = root.entries()[0];
  EXPECT_EQ(ka->scalar(), "a");
  EXPECT_EQ(va->scalar(), "1");
  EXPECT_EQ(ka->line(), 1);
  const YamlNode* b = root.entries()[1].second;
  ASSERT_TRUE(b->is_sequence());
  ASSERT_EQ(b->items().size(), 2u);
  EXPECT_EQ(b->items()[0]->scalar(), "x");
  EXPECT_EQ(b->items()[0]->line(), 3);
  ASSERT_TRUE(b->items()[1]->is_map());
  EXPECT_EQ(b->items()[1]->line(), 4);
  EXPECT_EQ(b->items()[1]->entries()[0].second->scalar(), "v");
  const YamlNode* c = root.entries()[2].second;
  ASSERT_EQ(c->items().size(), 2u);
  EXPECT_EQ(c->items()[1]->scalar(), "q");
  EXPECT_EQ(c->line(), 5);
}

TEST(YamlDocument, PlainNullSpellingsAreNullButQuotedOnesAreStrings) {
  auto r = YamlDocument::parse("a:\nb: ~\nc: null\nd: NULL\ne: \"null\"\nf: ''\ng: !!null x\n");
  const YamlNode& root = parsed(r).root();
  ASSERT_EQ(root.entries().size(), 7u);
  for (int i : {0, 1, 2, 3, 6}) EXPECT_TRUE(root.entries()[i].second->is_null()) << i;
  EXPECT_TRUE(root.entries()[4].second->is_scalar());
  EXPECT_EQ(root.entries()[4].second->scalar(), "null");
  EXPECT_TRUE(root.entries()[5].second->is_scalar());
  EXPECT_EQ(root.entries()[5].second->scalar(), "");
}

TEST(YamlDocument, EmptyTextIsANullRoot) {
  auto r = YamlDocument::parse("");
  EXPECT_TRUE(parsed(r).root().is_null());
  auto comments = YamlDocument::parse("# nothing here\n");
  EXPECT_TRUE(parsed(comments).root().is_null());
}

TEST(YamlDocument, AliasesShareTheAnchoredNode) {
  auto r = YamlDocument::parse("base: &b { x: 1 }\ncopy: *b\nlist: [&s one, *s]\n");
  const YamlNode& root = parsed(r).root();
  EXPECT_EQ(root.entries()[0].second, root.entries()[1].second);
  const YamlNode* list = root.entries()[2].second;
  EXPECT_EQ(list->items()[0], list->items()[1]);
  EXPECT_EQ(list->items()[1]->scalar(), "one");
}

TEST(YamlDocument, BlockScalarsKeepTheirText) {
  auto r = YamlDocument::parse("body: |\n  line one\n  line two\nfolded: >\n  a\n  b\n");
  const YamlNode& root = parsed(r).root();
  EXPECT_EQ(root.entries()[0].second->scalar(), "line one\nline two\n");
  EXPECT_EQ(root.entries()[1].second->scalar(), "a b\n");
}

TEST(YamlDocument, SyntaxErrorsCarryTheirLine) {
  auto r = YamlDocument::parse("a: 1\nb: [unclosed\nc: 2\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_GE(r.error().line, 2);
  EXPECT_FALSE(r.error().message.empty());

  auto tab = YamlDocument::parse("a:\n\t- x\n");
  ASSERT_FALSE(tab.has_value());
  EXPECT_EQ(tab.error().line, 2);
}

TEST(YamlDocument, UndefinedAliasIsRefused) {
  auto r = YamlDocument::parse("a: 1\nb: *nope\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().line, 2);
  EXPECT_THAT(r.error().message, HasSubstr("undefined alias 'nope'"));
}

TEST(YamlDocument, AContainerCannotContainItself) {
  auto r = YamlDocument::parse("a: &a [1, *a]\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("undefined alias 'a'"));
}

TEST(YamlDocument, ASecondDocumentIsRefused) {
  auto r = YamlDocument::parse("a: 1\n---\nb: 2\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().line, 2);
  EXPECT_THAT(r.error().message, HasSubstr("more than one YAML document"));
  auto one = YamlDocument::parse("---\na: 1\n...\n");
  EXPECT_TRUE(one.has_value());
}

TEST(YamlDocument, DeepNestingIsRefusedNotRecursedInto) {
  std::string deep(100000, '[');
  auto r = YamlDocument::parse(deep);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("nesting deeper than 64"));
  std::string ok = std::string(60, '[') + std::string(60, ']');
  EXPECT_TRUE(YamlDocument::parse(ok).has_value());
}

}  // namespace
}  // namespace vx::adapters::config
