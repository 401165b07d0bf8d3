#include "proxy/model_sniffer.h"

#include <gtest/gtest.h>

#include <string>

namespace vx::proxy {
namespace {

TEST(ModelSnifferTest, FindsTheTopLevelModelString) {
  const SniffResult r = sniff_model(R"({"model": "gpt-4", "messages": []})", true);
  EXPECT_EQ(r.status, SniffStatus::Found);
  EXPECT_EQ(r.model, "gpt-4");
}

TEST(ModelSnifferTest, SkipsEarlierMembersOfEveryKind) {
  const std::string body =
      R"( { "messages": [{"role": "user", "content": "say \"model\": x {]"}], "n": -1.5e3,)"
      R"( "stream": true, "meta": {"model": "nested"}, "x": null, "model":"llama-3" })";
  const SniffResult r = sniff_model(body, true);
  EXPECT_EQ(r.status, SniffStatus::Found);
  EXPECT_EQ(r.model, "llama-3");
}

TEST(ModelSnifferTest, ANestedModelKeyDoesNotCount) {
  EXPECT_EQ(sniff_model(R"({"meta": {"model": "gpt-4"}})", true).status, SniffStatus::NotFound);
}

TEST(ModelSnifferTest, EveryCutOfTheBodyNeedsMoreUntilTheModelIsComplete) {
  const std::string body = R"({"messages": [{"content": "hi"}], "model": "gpt-4"})";
  const size_t found_at = body.find("gpt-4") + 6;  // past the closing quote
  for (size_t n = 0; n < found_at; ++n) {
    EXPECT_EQ(sniff_model(std::string_view(body).substr(0, n), false).status, SniffStatus::NeedMore)
        << n;
    EXPECT_EQ(sniff_model(std::string_view(body).substr(0, n), true).status, SniffStatus::NotFound)
        << n;
  }
  for (size_t n = found_at; n <= body.size(); ++n) {
    const SniffResult r = sniff_model(std::string_view(body).substr(0, n), false);
    EXPECT_EQ(r.status, SniffStatus::Found) << n;
    EXPECT_EQ(r.model, "gpt-4") << n;
  }
}

TEST(ModelSnifferTest, RefusesWhatIsNotAPlainModelString) {
  for (const char* body : {R"({"model": 4})", R"({"model": ""})", R"({"model": "gpt\u002d4"})",
                           R"({"mod\u0065l": "gpt-4"})", R"(["model", "gpt-4"])", "model=gpt-4",
                           R"({"a" "model": "x"})", "{}", ""}) {
    EXPECT_EQ(sniff_model(body, true).status, SniffStatus::NotFound) << body;
  }
}

TEST(ModelSnifferTest, GarbageIsNotFoundEvenWhenIncomplete) {
  EXPECT_EQ(sniff_model("<html>", false).status, SniffStatus::NotFound);
  EXPECT_EQ(sniff_model(R"({"model" = )", false).status, SniffStatus::NotFound);
}

}  // namespace
}  // namespace vx::proxy
