#include "proxy/pipeline.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/pipeline_harness.h"
#include "support/scripted_filter.h"

namespace vx::proxy {
namespace {

using namespace std::chrono_literals;
using core::filter::BodyBuffer;
using core::filter::BodyStatus;
using core::filter::FilterStatus;
using core::http::BodyFraming;
using testing::FakeDownstreamExchange;
using testing::FakeUpstreamPool;
using testing::OriginScript;
using testing::ScriptedFilter;
using Request = FakeDownstreamExchange::Request;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string bytes_of(const BodyBuffer& body) {
  std::string out;
  body.copy_to(out);
  return out;
}

class PipelineTest : public ::testing::Test, protected testing::PipelineHarness {
 protected:
  void configure(std::vector<std::shared_ptr<ScriptedFilter>> filters,
                 std::function<void(core::config::Route&)> adjust = {}, std::string prefix = "/") {
    PipelineHarness::configure(Filters(filters.begin(), filters.end()), std::move(adjust),
                               std::move(prefix));
  }

  std::shared_ptr<ScriptedFilter> filter(std::string name) {
    return std::make_shared<ScriptedFilter>(std::move(name), trace_);
  }

  std::vector<std::string> trace_;
};

TEST_F(PipelineTest, PhasesRunInOrderAndTheLogComesLastOnce) {
  auto f = filter("f");
  f->request_head = [](auto&) { return FilterStatus::Continue; };
  f->request_body = [](auto&, auto&, bool) { return BodyStatus::Continue; };
  f->response_head = [](auto&) { return FilterStatus::Continue; };
  f->response_body = [](auto&, auto&, bool) { return BodyStatus::Continue; };
  f->log = [this](auto&, const ports::StreamOutcome& outcome) {
    EXPECT_TRUE(observer_.records.empty());  // filters' on_log first, then the observers
    EXPECT_EQ(outcome.status, 200);
    EXPECT_EQ(outcome.bytes_sent, 3u);
  };
  configure({f});
  pool_.script({.body = {"xy", "z"}});
  FakeDownstreamExchange exchange(io_, {.method = "POST", .body = {"ab", "cd"}});
  serve(exchange);

  const std::vector<std::string> want = {"f:request_head",
                                         "f:request_body",
                                         "f:request_body:end",
                                         "f:response_head",
                                         "f:response_body",
                                         "f:response_body:end",
                                         "f:log"};
  EXPECT_EQ(trace_, want);
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, 200);
  EXPECT_EQ(observer_.records[0].route, "api");
  EXPECT_EQ(exchange.answer().body, "xyz");
  ASSERT_EQ(pool_.records().size(), 1u);
  const auto& origin = pool_.records()[0];
  EXPECT_EQ(origin.body, "abcd");
  // The forwarded headers come after the route's own filters.
  EXPECT_EQ(origin.header("x-forwarded-for"), "192.0.2.10");
  EXPECT_EQ(origin.header("via"), "1.1 vortex");
}

TEST_F(PipelineTest, ARouteWithoutBodyFiltersKeepsTheBodyAsItCame) {
  auto f = filter("f");
  f->request_head = [](auto&) { return FilterStatus::Continue; };
  configure({f});
  pool_.script({.body = {"response"}});
  FakeDownstreamExchange exchange(io_, {.method = "PUT", .body = {"request"}});
  serve(exchange);
  const auto& origin = pool_.records()[0];
  EXPECT_EQ(origin.framing, BodyFraming::ContentLength);
  EXPECT_EQ(origin.header("content-length"), "7");
  EXPECT_EQ(exchange.answer().framing, BodyFraming::ContentLength);
  EXPECT_EQ(exchange.answer_header("content-length"), "8");
}

TEST_F(PipelineTest, ALocalAnswerFromARequestFilterNeverReachesTheUpstream) {
  auto deny = filter("deny");
  deny->request_head = [](ports::FilterStream& s) {
    s.add_response_header("www-authenticate", "Basic realm=\"api\"");
    s.respond({401, "text/plain", "who are you?\n"});
    return FilterStatus::Respond;
  };
  auto after = filter("after");
  after->request_head = [](auto&) { return FilterStatus::Continue; };
  configure({deny, after});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);

  EXPECT_EQ(pool_.acquires(), 0u);
  EXPECT_EQ(trace_, std::vector<std::string>{"deny:request_head"});  // the chain stopped
  EXPECT_TRUE(exchange.answer().local);
  EXPECT_EQ(exchange.answer().status, 401);
  EXPECT_EQ(exchange.answer().body, "who are you?\n");
  EXPECT_EQ(exchange.answer_header("www-authenticate"), "Basic realm=\"api\"");
  EXPECT_EQ(exchange.answer_header("content-type"), "text/plain");
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, 401);
  EXPECT_EQ(observer_.records[0].upstream, "");
}

TEST_F(PipelineTest, RespondWithoutAnAnswerIsAnInternalError) {
  auto broken = filter("broken");
  broken->request_head = [](auto&) { return FilterStatus::Respond; };
  configure({broken});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 500);
  EXPECT_EQ(pool_.acquires(), 0u);
  EXPECT_EQ(observer_.records.size(), 1u);
}

TEST_F(PipelineTest, AHeldRequestGoesOnWhenItsFilterResumesIt) {
  auto auth = filter("auth");
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  auth->request_head = [timer](ports::FilterStream& s) {
    // An asynchronous answer (an HTTP call, say) resumes the stream later.
    timer->expires_after(10ms);
    timer->async_wait([&s](boost::system::error_code) {
      s.request().set("x-user", "alice");
      s.resume();
    });
    s.hold(5s);
    return FilterStatus::Hold;
  };
  auto next = filter("next");
  next->request_head = [](ports::FilterStream& s) {
    EXPECT_EQ(s.request().get("x-user"), "alice");  // runs only after the resume
    return FilterStatus::Continue;
  };
  configure({auth, next});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);

  EXPECT_EQ((std::vector<std::string>{"auth:request_head", "next:request_head"}), trace_);
  ASSERT_EQ(pool_.records().size(), 1u);
  EXPECT_EQ(pool_.records()[0].header("x-user"), "alice");
  EXPECT_EQ(exchange.answer().status, 200);
}

TEST_F(PipelineTest, AHeldRequestMayBeAnsweredInsteadOfResumed) {
  auto auth = filter("auth");
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  auth->request_head = [timer](ports::FilterStream& s) {
    timer->expires_after(5ms);
    timer->async_wait([&s](boost::system::error_code) { s.respond({403, "", ""}); });
    s.hold(5s);
    return FilterStatus::Hold;
  };
  configure({auth});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 403);
  EXPECT_FALSE(exchange.answer_header("content-type"));
  EXPECT_EQ(pool_.acquires(), 0u);
}

TEST_F(PipelineTest, AHeldRequestNeverResumedIsDenied) {
  auto stuck = filter("stuck");
  stuck->request_head = [](ports::FilterStream& s) {
    s.hold(20ms);
    return FilterStatus::Hold;
  };
  configure({stuck});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 403);
  EXPECT_NE(exchange.answer().body.find("\"error\":\"Forbidden\""), std::string::npos);
  EXPECT_EQ(pool_.acquires(), 0u);
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, 403);
}

ports::Awaitable<void> look_up(ports::FilterStream& stream, bool allow) {
  boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor);
  wait.expires_after(5ms);
  co_await wait.async_wait(ports::kDeferTuple);
  if (allow) {
    stream.request().set("x-looked-up", "yes");
  } else {
    stream.respond({429, "text/plain", "slow down\n"});
  }
}

TEST_F(PipelineTest, HoldUntilAwaitsTheFiltersWorkInPlace) {
  auto lookup = filter("lookup");
  lookup->request_head = [](ports::FilterStream& s) {
    s.hold_until(look_up(s, true));
    return FilterStatus::Hold;
  };
  configure({lookup});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  ASSERT_EQ(pool_.records().size(), 1u);
  EXPECT_EQ(pool_.records()[0].header("x-looked-up"), "yes");
  EXPECT_EQ(exchange.answer().status, 200);
}

TEST_F(PipelineTest, HoldUntilWorkMayAnswer) {
  auto lookup = filter("lookup");
  lookup->request_head = [](ports::FilterStream& s) {
    s.hold_until(look_up(s, false));
    return FilterStatus::Hold;
  };
  configure({lookup});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(pool_.acquires(), 0u);
  EXPECT_EQ(exchange.answer().status, 429);
  EXPECT_EQ(exchange.answer().body, "slow down\n");
}

TEST_F(PipelineTest, RequestFiltersEditTheHeadTheUpstreamGets) {
  auto edit = filter("edit");
  edit->request_head = [](ports::FilterStream& s) {
    auto request = s.request();
    EXPECT_TRUE(request.set_method("PATCH"));
    EXPECT_TRUE(request.set_target("/rewritten?q=1"));
    request.set("x-tenant", "blue");
    request.remove("cookie");
    EXPECT_FALSE(request.set("x-bad", "a\r\nb: c"));
    return FilterStatus::Continue;
  };
  configure({edit});
  FakeDownstreamExchange exchange(io_, {.target = "/orig", .headers = {{"cookie", "secret"}}});
  serve(exchange);
  const auto& origin = pool_.records()[0];
  EXPECT_EQ(origin.method, "PATCH");
  EXPECT_EQ(origin.target, "/rewritten?q=1");
  EXPECT_EQ(origin.header("x-tenant"), "blue");
  EXPECT_FALSE(origin.header("cookie"));
  EXPECT_FALSE(origin.header("x-bad"));
}

TEST_F(PipelineTest, ResponseHeadFiltersEditTheHeadTheClientGets) {
  auto edit = filter("edit");
  edit->response_head = [](ports::FilterStream& s) {
    auto response = s.response();
    EXPECT_EQ(response.head().status, 200);
    response.set_status(203);
    response.set("x-filtered", "1");
    response.remove("server");
    return FilterStatus::Continue;
  };
  configure({edit});
  pool_.script({.headers = {{"server", "origin/1.0"}}, .body = {"hi"}});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 203);
  EXPECT_EQ(exchange.answer_header("x-filtered"), "1");
  EXPECT_FALSE(exchange.answer_header("server"));
  EXPECT_EQ(exchange.answer().body, "hi");
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, 203);
}

TEST_F(PipelineTest, TheLogHookReadsTheResponseHeadAsSentAfterItsBufferIsReused) {
  std::vector<std::pair<std::string, std::string>> logged;
  auto f = filter("f");
  f->response_head = [](ports::FilterStream& s) {
    s.response().add("x-filtered", "yes");
    s.response().remove("x-drop");
    return FilterStatus::Continue;
  };
  f->log = [&logged](ports::FilterStream& s, auto&) {
    const auto response = s.response();
    EXPECT_EQ(response.head().status, 201);
    for (const auto& h : response.fields()) logged.emplace_back(h.name, h.value);
  };
  for (const bool wire : {true, false}) {  // HTTP/1's one buffer, and fields from anywhere
    logged.clear();
    configure({f});
    pool_.script({.status = 201,
                  .headers = {{"server", "origin/1.0"}, {"x-drop", "1"}, {"etag", "\"v7\""}},
                  .body = {"body"},
                  .wire = wire});
    FakeDownstreamExchange exchange(io_, {});
    serve(exchange);
    const std::vector<std::pair<std::string, std::string>> want = {{"server", "origin/1.0"},
                                                                   {"etag", "\"v7\""},
                                                                   {"content-length", "4"},
                                                                   {"x-filtered", "yes"}};
    EXPECT_EQ(logged, want) << "wire " << wire;
    EXPECT_EQ(exchange.answer().body, "body");
  }
}

TEST_F(PipelineTest, TheResponseHeadIsKeptForTheLogHookOnlyForAFilterThatAsks) {
  int seen = -1;
  auto f = filter("f");
  f->log_reads_response = false;  // Hook::Log alone
  f->log = [&seen](ports::FilterStream& s, auto&) { seen = s.response().head().status; };
  configure({f});
  pool_.script({.status = 201, .body = {"body"}});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 201);
  EXPECT_EQ(seen, 0);  // called, with no head kept to read
}

TEST_F(PipelineTest, AResponseHeadFilterMayReplaceTheResponse) {
  auto gate = filter("gate");
  gate->response_head = [](ports::FilterStream& s) {
    if (s.response().head().status >= 500) s.respond({502, "text/plain", "hidden\n"});
    return FilterStatus::Continue;
  };
  configure({gate});
  pool_.script({.status = 500, .body = {"stack trace"}});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_TRUE(exchange.answer().local);
  EXPECT_EQ(exchange.answer().status, 502);
  EXPECT_EQ(exchange.answer().body, "hidden\n");
  // The origin's unread body leaves its connection unusable.
  EXPECT_EQ(pool_.records()[0].released_reusable, false);
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, 502);
}

TEST_F(PipelineTest, AResponseHeadFilterMayHold) {
  auto slow = filter("slow");
  slow->response_head = [](ports::FilterStream& s) {
    s.hold_until([](ports::FilterStream& stream) -> ports::Awaitable<void> {
      boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor);
      wait.expires_after(5ms);
      co_await wait.async_wait(ports::kDeferTuple);
      stream.response().set("x-late", "1");
    }(s));
    return FilterStatus::Hold;
  };
  configure({slow});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 200);
  EXPECT_EQ(exchange.answer_header("x-late"), "1");
  EXPECT_EQ(exchange.answer().body, "ok");
}

struct Framing {
  const char* name;
  BodyFraming framing;
  std::vector<std::pair<std::string, std::string>> trailers;
};

class ResponseBodyRewriteTest : public PipelineTest,
                                public ::testing::WithParamInterface<Framing> {};

TEST_P(ResponseBodyRewriteTest, RewritesChunksAndDropsAStaleContentLength) {
  auto shout = filter("shout");
  shout->response_body = [](auto&, BodyBuffer& body, bool) {
    body.replace(upper(bytes_of(body)) + "!");
    return BodyStatus::Continue;
  };
  configure({shout});
  pool_.script({.body = {"hello ", "world"},
                .framing = GetParam().framing,
                .trailers = GetParam().trailers});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  const auto& answer = exchange.answer();
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "HELLO !WORLD!");
  EXPECT_EQ(answer.framing, BodyFraming::Chunked);
  EXPECT_FALSE(exchange.answer_header("content-length"));
  EXPECT_TRUE(answer.complete);
  EXPECT_EQ(answer.trailers, GetParam().trailers);
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].bytes_sent, answer.body.size());
}

INSTANTIATE_TEST_SUITE_P(
    UpstreamFramings, ResponseBodyRewriteTest,
    ::testing::Values(Framing{"content_length", BodyFraming::ContentLength, {}},
                      Framing{"chunked", BodyFraming::Chunked, {}},
                      Framing{"h2_with_trailers", BodyFraming::Chunked, {{"grpc-status", "0"}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(PipelineTest, ABufferingResponseFilterSeesTheWholeBodyAtTheEnd) {
  auto count = filter("count");
  count->response_body = [](auto&, BodyBuffer& body, bool end) {
    if (!end) return BodyStatus::Buffer;
    body.replace("length=" + std::to_string(body.size()));
    return BodyStatus::Continue;
  };
  configure({count});
  pool_.script({.body = {"12", "345", "6789"}});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().chunks, std::vector<std::string>{"length=9"});
}

TEST_F(PipelineTest, RequestBodyFiltersRewriteWhatTheUpstreamGets) {
  auto wrap = filter("wrap");
  wrap->request_body = [](auto&, BodyBuffer& body, bool end) {
    if (!end) return BodyStatus::Buffer;
    body.replace("[" + bytes_of(body) + "]");
    return BodyStatus::Continue;
  };
  configure({wrap});
  FakeDownstreamExchange exchange(io_, {.method = "POST", .body = {"a", "b", "c"}});
  serve(exchange);
  const auto& origin = pool_.records()[0];
  EXPECT_EQ(origin.body, "[abc]");
  EXPECT_TRUE(origin.body_ended);
  EXPECT_EQ(origin.framing, BodyFraming::Chunked);
  EXPECT_FALSE(origin.header("content-length"));
  EXPECT_EQ(exchange.answer().status, 200);
}

TEST_F(PipelineTest, BufferingPastTheLimitIs413) {
  auto hoard = filter("hoard");
  hoard->request_body = [](auto&, auto&, bool) { return BodyStatus::Buffer; };
  configure({hoard});
  const std::string piece(256 * 1024, 'x');
  FakeDownstreamExchange exchange(io_,
                                  {.method = "POST", .body = std::vector<std::string>(8, piece)});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 413);
  EXPECT_TRUE(pool_.records()[0].cancelled);
  EXPECT_FALSE(pool_.records()[0].body_ended);
  EXPECT_EQ(pool_.records()[0].released_reusable, false);
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, 413);
}

TEST_F(PipelineTest, ARequestBodyFilterMayAnswerBeforeTheResponse) {
  auto inspect = filter("inspect");
  inspect->request_body = [](ports::FilterStream& s, BodyBuffer& body, bool) {
    if (bytes_of(body).find("DROP TABLE") == std::string::npos) return BodyStatus::Continue;
    s.respond({400, "text/plain", "no\n"});
    return BodyStatus::Respond;
  };
  configure({inspect});
  FakeDownstreamExchange exchange(
      io_, {.method = "POST", .body = {"select 1;", "DROP TABLE users;", "more"}});
  serve(exchange);
  EXPECT_TRUE(exchange.answer().local);
  EXPECT_EQ(exchange.answer().status, 400);
  EXPECT_EQ(exchange.answer().body, "no\n");
  EXPECT_EQ(pool_.records()[0].body, "select 1;");
  EXPECT_FALSE(pool_.records()[0].body_ended);
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, 400);
}

TEST_F(PipelineTest, ResetsAreRetriedOnAnotherEndpointAsThePolicyAllows) {
  configure({}, [](core::config::Route& r) {
    r.retries = core::config::RetryPolicy{1, {core::config::RetryOn::Reset}};
  });
  pool_.script({.kind = OriginScript::Kind::ResetBeforeHead});
  pool_.script({.body = {"second"}});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().body, "second");
  ASSERT_EQ(pool_.targets().size(), 2u);
  EXPECT_NE(pool_.targets()[0], pool_.targets()[1]);
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, 200);
}

TEST_F(PipelineTest, NonIdempotentRequestsAreNotRetried) {
  configure({}, [](core::config::Route& r) {
    r.retries = core::config::RetryPolicy{3, {core::config::RetryOn::Reset}};
  });
  pool_.script({.kind = OriginScript::Kind::ResetBeforeHead});
  FakeDownstreamExchange exchange(io_, {.method = "POST"});
  serve(exchange);
  EXPECT_EQ(pool_.acquires(), 1u);
  EXPECT_EQ(exchange.answer().status, 502);
}

TEST_F(PipelineTest, AStaleKeepAliveIsRetriedOnceOnAFreshConnection) {
  configure({});
  pool_.script({.kind = OriginScript::Kind::ResetBeforeHead, .reused = true});
  pool_.script({.body = {"fresh"}});
  FakeDownstreamExchange exchange(io_, {});
  serve(exchange);
  EXPECT_EQ(exchange.answer().body, "fresh");
  EXPECT_EQ(pool_.fresh_only(), (std::vector<bool>{false, true}));
}

struct Counter final : ports::FilterState {
  int value = 0;
};

TEST_F(PipelineTest, EachFilterKeepsItsOwnStateForTheWholeStream) {
  std::vector<int> seen;
  auto counting = [&](std::string name, int step) {
    auto f = filter(std::move(name));
    f->request_head = [](ports::FilterStream& s) {
      EXPECT_FALSE(s.state());  // empty at the stream's start
      s.state() = std::make_unique<Counter>();
      return FilterStatus::Continue;
    };
    f->response_head = [step](ports::FilterStream& s) {
      static_cast<Counter&>(*s.state()).value += step;
      return FilterStatus::Continue;
    };
    f->log = [&seen](ports::FilterStream& s, auto&) {
      seen.push_back(static_cast<Counter&>(*s.state()).value);
    };
    return f;
  };
  configure({counting("a", 1), counting("b", 10)});
  for (int i = 0; i < 2; ++i) {  // a second stream starts from empty slots again
    FakeDownstreamExchange exchange(io_, {});
    serve(exchange);
  }
  EXPECT_EQ(seen, (std::vector<int>{1, 10, 1, 10}));
}

TEST_F(PipelineTest, StreamsInFlightFinishOnTheChainTheyStartedWith) {
  auto old_filter = filter("old");
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  old_filter->request_head = [timer](ports::FilterStream& s) {
    timer->expires_after(20ms);
    timer->async_wait([&s](boost::system::error_code) { s.resume(); });
    s.hold(5s);
    return FilterStatus::Hold;
  };
  old_filter->response_head = [](ports::FilterStream& s) {
    s.response().set("x-chain", "old");
    return FilterStatus::Continue;
  };
  configure({old_filter});
  FakeDownstreamExchange first(io_, {});
  bool first_done = false;
  start(first, first_done);
  io_.run_for(5ms);  // the first stream now waits in its old chain

  auto new_filter = filter("new");
  new_filter->response_head = [](ports::FilterStream& s) {
    s.response().set("x-chain", "new");
    return FilterStatus::Continue;
  };
  configure({new_filter});  // a reload
  FakeDownstreamExchange second(io_, {});
  serve(second);
  EXPECT_TRUE(first_done);
  EXPECT_EQ(first.answer_header("x-chain"), "old");
  EXPECT_EQ(second.answer_header("x-chain"), "new");
}

// Every way a stream can end leaves exactly one log record with the status it ended with.
struct Ending {
  const char* name;
  OriginScript origin;
  Request request;
  uint16_t status;
  bool answered;  // the client got an answer from the pipeline (not a started response)
};

class OneLogRecordTest : public PipelineTest, public ::testing::WithParamInterface<Ending> {};

TEST_P(OneLogRecordTest, EveryPathLogsOnce) {
  auto f = filter("f");
  f->log = [](auto&, auto&) {};
  configure(
      {f}, [](core::config::Route& r) { r.timeout = 30ms; }, "/api");
  pool_.script(GetParam().origin);
  FakeDownstreamExchange exchange(io_, GetParam().request);
  serve(exchange);
  ASSERT_EQ(observer_.records.size(), 1u);
  EXPECT_EQ(observer_.records[0].status, GetParam().status);
  EXPECT_EQ(std::count(trace_.begin(), trace_.end(), "f:log"), GetParam().status == 404 ? 0 : 1);
  if (GetParam().answered) {
    EXPECT_EQ(exchange.answer().status, GetParam().status);
  }
}

using Kind = OriginScript::Kind;
INSTANTIATE_TEST_SUITE_P(
    Endings, OneLogRecordTest,
    ::testing::Values(
        Ending{"success", {.body = {"ok"}}, {.target = "/api"}, 200, true},
        Ending{"no_route", {}, {.target = "/other"}, 404, true},
        Ending{"refused", {.kind = Kind::RefuseConnect}, {.target = "/api"}, 502, true},
        Ending{"reset", {.kind = Kind::ResetBeforeHead}, {.target = "/api"}, 502, true},
        Ending{"upstream_5xx", {.status = 503, .body = {"down"}}, {.target = "/api"}, 503, true},
        Ending{"timeout", {.kind = Kind::NeverAnswer}, {.target = "/api"}, 504, true},
        Ending{"reset_mid_body",
               {.kind = Kind::ResetMidBody, .body = {"part", "rest"}},
               {.target = "/api"},
               502,
               false},
        Ending{"client_abort",
               {.answer_after_body = true},
               {.method = "POST",
                .target = "/api",
                .body = {"half"},
                .body_error = core::http::Error{core::http::ErrorKind::DownstreamClosed, "gone"}},
               499,
               false},
        Ending{"body_too_large",
               {},
               {.method = "POST",
                .target = "/api",
                .body = {"half"},
                .body_error = core::http::Error{core::http::ErrorKind::BodyTooLarge, "too big"}},
               413,
               true}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace vx::proxy
