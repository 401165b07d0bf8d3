#include "adapters/wasm/wasm_filter.h"

#include <boost/asio/post.hpp>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "support/wasm_guest.h"

#include "adapters/wasm/vm/v8/v8_engine.h"
#include "adapters/wasm/vm/wabt/wabt_engine.h"
#include "support/pipeline_harness.h"

namespace vx::adapters::wasm {
namespace {

using namespace std::chrono_literals;
using testing::FakeDownstreamExchange;
using testing::OriginScript;

std::string guest(const std::string& name) {
  return testing::wasm_guest(name);
}

// Answers proxy_http_call from a script, on the test's loop (never from inside call()).
class ScriptedHttpCaller final : public HttpCaller {
 public:
  explicit ScriptedHttpCaller(boost::asio::io_context& io) : io_(io) {}
  bool call(std::string_view cluster, Request request, std::chrono::milliseconds,
            Done done) override {
    if (cluster != "auth") return false;
    requests.push_back(std::move(request));
    boost::asio::post(io_, [this, done = std::move(done)] { done(answer); });
    return true;
  }
  std::optional<Response> answer;
  std::vector<Request> requests;

 private:
  boost::asio::io_context& io_;
};

// The host runs the same on every engine behind the port: each test runs on each.
using EngineOf = WasmEngine& (*)();

class WasmFilterTest : public ::testing::TestWithParam<EngineOf>,
                       protected testing::PipelineHarness {
 protected:
  WasmEngine& engine() { return GetParam()(); }
  core::config::WasmPlugin plugin_config(std::string name = "test") {
    core::config::WasmPlugin p;
    p.name = std::move(name);
    p.file = "test_filter.wasm";
    p.config = "configured";
    p.max_call = 200ms;
    return p;
  }
  // Compiles `file`, starts it on "worker 0" (this thread) and routes through it.
  std::shared_ptr<PluginRuntime> use(const std::string& file, core::config::WasmPlugin config) {
    auto module = PluginModule::create(config, guest(file), engine());
    EXPECT_TRUE(module) << (module ? "" : module.error().front());
    if (!module) return nullptr;
    auto runtime = std::make_shared<PluginRuntime>(*module, 1, std::make_shared<CallCounters>(1));
    auto started = runtime->start_on_worker(0, environment());
    EXPECT_TRUE(started) << (started ? "" : started.error());
    configure({std::make_shared<WasmFilter>(runtime)});
    return runtime;
  }
  PluginEnvironment environment() {
    return {io_.get_executor(), shared_, &http_,
            [this](std::function<void()> task) { boost::asio::post(io_, std::move(task)); }};
  }

  SharedState shared_;
  ScriptedHttpCaller http_{io_};
};

TEST_P(WasmFilterTest, EditsRequestAndResponseHeaders) {
  use("test_filter.wasm", plugin_config());
  FakeDownstreamExchange exchange(
      io_, {.target = "/edit", .headers = {{"x-replace", "old"}, {"x-remove", "gone"}}});
  serve(exchange);
  ASSERT_EQ(pool_.records().size(), 1u);
  const auto& origin = pool_.records()[0];
  EXPECT_EQ(origin.header("x-wasm-config"), "configured");
  EXPECT_EQ(origin.header("x-replace"), "new");
  EXPECT_FALSE(origin.header("x-remove"));
  EXPECT_EQ(exchange.answer().status, 200);
  EXPECT_EQ(exchange.answer_header("x-wasm-response"), "seen");
  ASSERT_EQ(observer_.records.size(), 1u);
}

TEST_P(WasmFilterTest, ALocalResponseIsSentAsThePluginWroteIt) {
  auto runtime = use("test_filter.wasm", plugin_config());
  FakeDownstreamExchange exchange(io_, {.target = "/deny"});
  serve(exchange);
  EXPECT_EQ(pool_.acquires(), 0u);
  EXPECT_EQ(exchange.answer().status, 401);
  EXPECT_EQ(exchange.answer().body, "denied by test plugin\n");
  EXPECT_EQ(exchange.answer_header("x-reason"), "test");
  EXPECT_EQ(runtime->counters().totals()[static_cast<size_t>(CallResult::Deny)], 1u);
}

TEST_P(WasmFilterTest, AnHttpCallHoldsTheRequestUntilItsAnswer) {
  use("test_filter.wasm", plugin_config());
  http_.answer = HttpCaller::Response{200, {}, {}, "alice"};
  FakeDownstreamExchange exchange(io_, {.target = "/call"});
  serve(exchange);
  ASSERT_EQ(http_.requests.size(), 1u);
  EXPECT_EQ(http_.requests[0].method, "GET");
  EXPECT_EQ(http_.requests[0].path, "/check");
  ASSERT_EQ(pool_.records().size(), 1u);
  EXPECT_EQ(pool_.records()[0].header("x-auth"), "alice");
  EXPECT_EQ(exchange.answer().status, 200);
}

TEST_P(WasmFilterTest, AnHttpCallsAnswerMayDenyTheRequest) {
  use("test_filter.wasm", plugin_config());
  http_.answer = HttpCaller::Response{500, {}, {}, ""};
  FakeDownstreamExchange exchange(io_, {.target = "/call"});
  serve(exchange);
  EXPECT_EQ(pool_.acquires(), 0u);
  EXPECT_EQ(exchange.answer().status, 403);
  EXPECT_EQ(exchange.answer().body, "forbidden by auth\n");
}

TEST_P(WasmFilterTest, AFailedHttpCallReachesThePluginToo) {
  use("test_filter.wasm", plugin_config());
  http_.answer = std::nullopt;
  FakeDownstreamExchange exchange(io_, {.target = "/call"});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 403);
}

TEST_P(WasmFilterTest, ATrapInTheCallsAnswerFailsTheHeldRequest) {
  use("test_filter.wasm", plugin_config());
  http_.answer = HttpCaller::Response{200, {}, {}, "trap"};
  FakeDownstreamExchange exchange(io_, {.target = "/call"});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 500);
  EXPECT_EQ(pool_.acquires(), 0u);
}

TEST_P(WasmFilterTest, ATrapInTheCallsAnswerLetsAFailOpenRequestOn) {
  auto config = plugin_config();
  config.fail_open = true;
  use("test_filter.wasm", config);
  http_.answer = HttpCaller::Response{200, {}, {}, "trap"};
  FakeDownstreamExchange exchange(io_, {.target = "/call"});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 200);
  EXPECT_EQ(pool_.acquires(), 1u);
}

TEST_P(WasmFilterTest, APauseNeverResumedIsDeniedAfterMaxCall) {
  auto config = plugin_config();
  config.max_call = 40ms;
  use("test_filter.wasm", config);
  FakeDownstreamExchange exchange(io_, {.target = "/pause-forever"});
  const auto start = std::chrono::steady_clock::now();
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 403);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
  EXPECT_EQ(pool_.acquires(), 0u);
}

TEST_P(WasmFilterTest, BodiesAreBufferedAndRewrittenWithoutAStaleLength) {
  use("test_filter.wasm", plugin_config());
  pool_.script({.body = {"abc"}});
  FakeDownstreamExchange exchange(io_,
                                  {.method = "POST", .target = "/upper", .body = {"hel", "lo"}});
  serve(exchange);
  const auto& origin = pool_.records()[0];
  EXPECT_EQ(origin.body, "HELLO");
  EXPECT_FALSE(origin.header("content-length"));
  EXPECT_EQ(exchange.answer().body, "abc!");
  EXPECT_FALSE(exchange.answer_header("content-length"));
}

TEST_P(WasmFilterTest, ATrapFailsTheRequestAndAFreshInstanceServesTheNext) {
  auto runtime = use("test_filter.wasm", plugin_config());
  FakeDownstreamExchange trapped(io_, {.target = "/trap"});
  serve(trapped);
  EXPECT_EQ(trapped.answer().status, 500);
  EXPECT_EQ(pool_.acquires(), 0u);
  EXPECT_EQ(runtime->counters().totals()[static_cast<size_t>(CallResult::Trap)], 1u);
  FakeDownstreamExchange next(io_, {.target = "/edit"});
  serve(next);
  EXPECT_EQ(next.answer().status, 200);
  EXPECT_EQ(pool_.records().back().header("x-wasm-config"), "configured");
}

TEST_P(WasmFilterTest, FailOpenLetsTheRequestOnAfterATrap) {
  auto config = plugin_config();
  config.fail_open = true;
  use("test_filter.wasm", config);
  FakeDownstreamExchange exchange(io_, {.target = "/trap"});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 200);
  EXPECT_EQ(pool_.acquires(), 1u);
}

TEST_P(WasmFilterTest, AnEndlessLoopIsStoppedAtMaxCall) {
  auto config = plugin_config();
  config.max_call = 30ms;
  auto runtime = use("test_filter.wasm", config);
  FakeDownstreamExchange exchange(io_, {.target = "/loop"});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 500);
  EXPECT_EQ(runtime->counters().totals()[static_cast<size_t>(CallResult::Timeout)], 1u);
  FakeDownstreamExchange next(io_, {.target = "/edit"});
  serve(next);
  EXPECT_EQ(next.answer().status, 200);
}

TEST_P(WasmFilterTest, AMemoryBombIsStopped) {
  auto config = plugin_config();
  config.max_call = 5s;  // the cap must stop it, not the clock
  use("test_filter.wasm", config);
  FakeDownstreamExchange exchange(io_, {.target = "/bomb"});
  serve(exchange);
  EXPECT_EQ(exchange.answer().status, 500);
}

TEST_P(WasmFilterTest, PropertiesSharedDataMetricsForeignCallsAndWasi) {
  use("test_filter.wasm", plugin_config());
  for (const char* path : {"/property", "/shared", "/shared", "/foreign", "/wasi"}) {
    FakeDownstreamExchange exchange(io_, {.target = path});
    serve(exchange);
    ASSERT_EQ(exchange.answer().status, 200) << path;
  }
  const auto& r = pool_.records();
  EXPECT_EQ(r[0].header("x-property-path"), "/property");
  EXPECT_EQ(r[0].header("x-property-plugin"), "test");
  EXPECT_EQ(r[1].header("x-shared"), "1");
  EXPECT_EQ(r[2].header("x-shared"), "2");   // a CAS update of the first
  EXPECT_EQ(r[3].header("x-foreign"), "1");  // NotFound: Vortex has no foreign functions
  EXPECT_EQ(r[4].header("x-clock"), "y");
  EXPECT_EQ(r[4].header("x-random"), "y");
  bool counted = false;
  for (const auto& m : shared_.metrics()) {
    if (m.plugin == "test" && m.name == "requests") counted = m.value == 5;
  }
  EXPECT_TRUE(counted);
}

TEST_P(WasmFilterTest, TicksRunOnTheRootContext) {
  auto config = plugin_config();
  config.config = "tick";
  use("test_filter.wasm", config);
  io_.run_for(150ms);
  io_.restart();
  int64_t ticks = 0;
  for (const auto& m : shared_.metrics()) {
    if (m.name == "ticks") ticks = m.value;
  }
  EXPECT_GE(ticks, 2);
}

TEST_P(WasmFilterTest, Abi010CallbacksAndSemantics) {
  use("abi_0_1_0.wasm", plugin_config("old"));
  FakeDownstreamExchange exchange(io_, {.target = "/"});
  serve(exchange);
  EXPECT_EQ(pool_.records()[0].header("x-abi"), "0.1.0");
  EXPECT_EQ(pool_.records()[0].header("x-missing-ok"), "y");
}

TEST_P(WasmFilterTest, StreamEndCallbacksThatDoNothingAreNotCalledAndTheStreamIsForgotten) {
  // abi_0_1_0.c's proxy_on_done only returns 1, and it has no on_log or on_delete: the filter
  // wants no log hook (so no response head is kept for one), and each stream's context is
  // closed when the stream ends all the same.
  auto quiet = use("abi_0_1_0.wasm", plugin_config("old"));
  EXPECT_FALSE(WasmFilter(quiet).hooks().has(core::filter::Hook::Log));
  for (int i = 0; i < 3; ++i) {
    FakeDownstreamExchange exchange(io_, {.target = "/"});
    serve(exchange);
    EXPECT_EQ(exchange.answer().status, 200);
  }
  EXPECT_EQ(pool_.records().size(), 3u);
  EXPECT_EQ(pool_.records()[2].header("x-abi"), "0.1.0");
  EXPECT_EQ(quiet->instance(0)->open_streams(), 0u);
  // test_filter.c logs the response head in proxy_on_log: it is called, and the head is kept
  // for it. header_stateful.c counts in its stream callbacks and imports nothing that reads a
  // header map: called, and no head kept.
  const auto reader = WasmFilter(use("test_filter.wasm", plugin_config())).hooks();
  EXPECT_TRUE(reader.has(core::filter::Hook::Log));
  EXPECT_TRUE(reader.has(core::filter::Hook::LogResponseHead));
  const auto counter = WasmFilter(use("header_stateful.wasm", plugin_config("counts"))).hooks();
  EXPECT_TRUE(counter.has(core::filter::Hook::Log));
  EXPECT_FALSE(counter.has(core::filter::Hook::LogResponseHead));
}
TEST_P(WasmFilterTest, TheExecuteAbiAllowsWith200AndOtherwiseIs403) {
  auto allow = plugin_config("allow");
  allow.abi = core::config::WasmAbi::Execute;
  use("execute_allow.wasm", allow);
  FakeDownstreamExchange allowed(io_, {});
  serve(allowed);
  EXPECT_EQ(allowed.answer().status, 200);
  auto deny = plugin_config("deny");
  deny.abi = core::config::WasmAbi::Execute;
  use("execute_deny.wasm", deny);
  FakeDownstreamExchange denied(io_, {});
  serve(denied);
  EXPECT_EQ(denied.answer().status, 403);
  EXPECT_NE(denied.answer().body.find("\"error\":\"Forbidden\""), std::string::npos);
}

TEST_P(WasmFilterTest, AnOutOfBoundsAccessIsATrapAndTheNextRequestRuns) {
  auto config = plugin_config("oob");
  config.abi = core::config::WasmAbi::Execute;
  auto runtime = use("execute_out_of_bounds.wasm", config);
  for (int i = 0; i < 2; ++i) {
    FakeDownstreamExchange exchange(io_, {});
    serve(exchange);
    EXPECT_EQ(exchange.answer().status, 500);
  }
  EXPECT_EQ(runtime->counters().totals()[static_cast<size_t>(CallResult::Trap)], 2u);
}

INSTANTIATE_TEST_SUITE_P(Engines, WasmFilterTest, ::testing::Values(&v8_engine, &wabt_engine),
                         [](const auto& info) { return std::string(info.param().name()); });

TEST(PluginModuleTest, RefusesModulesThatCannotRunWithAMessage) {
  core::config::WasmPlugin config;
  config.name = "bad";
  auto not_wasm = PluginModule::create(config, "definitely not wasm", v8_engine());
  ASSERT_FALSE(not_wasm);
  EXPECT_NE(not_wasm.error().front().find("does not compile"), std::string::npos);
  auto no_marker = PluginModule::create(config, guest("no_marker.wasm"), v8_engine());
  ASSERT_FALSE(no_marker);
  EXPECT_NE(no_marker.error().front().find("proxy_abi_version"), std::string::npos);
  config.abi = core::config::WasmAbi::Execute;
  auto no_execute = PluginModule::create(config, guest("test_filter.wasm"), v8_engine());
  ASSERT_FALSE(no_execute);
  EXPECT_NE(no_execute.error().front().find("'execute'"), std::string::npos);
}

TEST(PluginModuleTest, RefusesModulesThatFailToStart) {
  boost::asio::io_context io;
  SharedState shared;
  const PluginEnvironment env{io.get_executor(), shared, nullptr, {}};
  core::config::WasmPlugin config;
  config.name = "bad";
  for (const auto& [file, why] : {std::pair{"missing_import.wasm", "env.proxy_does_not_exist"},
                                  std::pair{"vm_start_fails.wasm", "proxy_on_vm_start"}}) {
    auto module = PluginModule::create(config, guest(file), v8_engine());
    ASSERT_TRUE(module) << file;
    auto started = PluginInstance::start(*module, env);
    ASSERT_FALSE(started) << file;
    EXPECT_NE(started.error().find(why), std::string::npos) << started.error();
  }
  config.config = "fail-configure";
  auto module = PluginModule::create(config, guest("test_filter.wasm"), v8_engine());
  ASSERT_TRUE(module);
  auto started = PluginInstance::start(*module, env);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().find("proxy_on_configure"), std::string::npos);
}

}  // namespace
}  // namespace vx::adapters::wasm
