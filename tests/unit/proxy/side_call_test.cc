#include "proxy/side_call.h"

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>

#include "support/pipeline_harness.h"

namespace vx::proxy {
namespace {

using namespace std::chrono_literals;
using core::http::ErrorKind;
using testing::OriginScript;

SideRequest get(std::string path = "/check") {
  return {"GET", "auth.local", std::move(path), {{"x-user", "ada"}}, ""};
}

TEST(PrepareSideRequest, RefusesWhatTheWireCannotCarry) {
  EXPECT_TRUE(prepare_side_request(get()).has_value());
  auto bad_method = get();
  bad_method.method = "GE T";
  EXPECT_EQ(prepare_side_request(bad_method).error(), "bad :method");
  EXPECT_EQ(prepare_side_request(get("/a b")).error(), "bad :path");
  EXPECT_EQ(prepare_side_request(get("no-slash")).error(), "bad :path");
  auto bad_authority = get();
  bad_authority.authority = "a\r\nb";
  EXPECT_EQ(prepare_side_request(bad_authority).error(), "bad :authority");
  auto split = get();
  split.headers.push_back({"x-evil", "1\r\nx-injected: 2"});
  EXPECT_EQ(prepare_side_request(split).error(), "bad header 'x-evil'");
  auto bad_name = get();
  bad_name.headers.push_back({"x evil", "1"});
  EXPECT_EQ(prepare_side_request(bad_name).error(), "bad header 'x evil'");
}

TEST(PrepareSideRequest, SetsItsOwnHostAndFraming) {
  auto request = get();
  request.method = "POST";
  request.headers = {
      {"Host", "spoofed"},      {"content-length", "999"}, {"transfer-encoding", "chunked"},
      {"connection", "x-drop"}, {"x-drop", "1"},           {"x-keep", "2"}};
  request.body = "hello";
  auto prepared = prepare_side_request(request);
  ASSERT_TRUE(prepared.has_value());
  const auto& head = (*prepared)->head;
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& h : head.headers) fields.emplace_back(h.name, h.value);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"host", "auth.local"}, {"x-keep", "2"}, {"content-length", "5"}};
  EXPECT_EQ(fields, expected);
  EXPECT_EQ(head.framing, core::http::BodyFraming::ContentLength);
  EXPECT_EQ((*prepared)->body, "hello");
}

class SideCallTest : public ::testing::Test, protected testing::PipelineHarness {
 protected:
  void SetUp() override { configure({}); }

  core::Result<SideResponse, core::http::Error> call(std::string_view cluster, SideRequest request,
                                                     std::chrono::milliseconds timeout = 2s) {
    auto prepared = prepare_side_request(std::move(request));
    EXPECT_TRUE(prepared.has_value());
    std::optional<core::Result<SideResponse, core::http::Error>> result;
    auto runtime = holder_.load();
    boost::asio::co_spawn(
        io_,
        [&]() -> ports::Awaitable<void> {
          result = co_await side_call(worker_, *runtime, cluster, **prepared, timeout);
        },
        boost::asio::detached);
    io_.run_for(10s);
    io_.restart();
    EXPECT_TRUE(result.has_value()) << "the call never ended";
    return result ? std::move(*result)
                  : core::unexpected(core::http::Error{ErrorKind::UpstreamTimeout, "stuck"});
  }
};

TEST_F(SideCallTest, CollectsTheWholeAnswer) {
  OriginScript answer;
  answer.status = 201;
  answer.headers = {{"x-verdict", "yes"}};
  answer.body = {"gran", "ted"};
  answer.trailers = {{"x-sum", "7"}};
  answer.framing = core::http::BodyFraming::Chunked;
  pool_.script(answer);
  auto r = call("api", get());
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "granted");
  ASSERT_EQ(r->trailers.size(), 1u);
  EXPECT_EQ(r->trailers[0].second, "7");
  const auto& sent = pool_.records().back();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.target, "/check");
  EXPECT_EQ(sent.header("x-user"), "ada");
  EXPECT_EQ(sent.released_reusable, true);
}

TEST_F(SideCallTest, UnknownClusterAndUpstreamFailuresAreErrors) {
  EXPECT_EQ(call("nope", get()).error().kind, ErrorKind::NoEndpoint);
  OriginScript refuse;
  refuse.kind = OriginScript::Kind::RefuseConnect;
  pool_.script(refuse);
  EXPECT_EQ(call("api", get()).error().kind, ErrorKind::UpstreamConnectRefused);
  OriginScript reset;
  reset.kind = OriginScript::Kind::ResetMidBody;
  reset.body = {"a", "b"};
  pool_.script(reset);
  EXPECT_FALSE(call("api", get()).has_value());
}

TEST_F(SideCallTest, AnAnswerPastItsDeadlineTimesOut) {
  OriginScript silent;
  silent.kind = OriginScript::Kind::NeverAnswer;
  pool_.script(silent);
  const auto started = std::chrono::steady_clock::now();
  auto r = call("api", get(), 50ms);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::UpstreamTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(SideCallTest, AnAnswerLargerThanTheCapFails) {
  OriginScript big;
  big.body = {std::string(kMaxSideCallBodyBytes, 'x'), "y"};
  pool_.script(big);
  auto r = call("api", get());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::UpstreamBadResponse);
}

}  // namespace
}  // namespace vx::proxy
