// PipelineHarness: one worker's request pipeline over in-memory fakes (FakeDownstreamExchange,
// FakeUpstreamPool), for the unit tests of the pipeline and of the filters that plug into it.
// One route "api" to a cluster "api" of two endpoints, whose plugins are the filters given.
// Test use only; everything runs on the test's thread.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/pipeline.h"
#include "proxy/runtime.h"
#include "proxy/runtime_holder.h"
#include "support/fake_downstream_exchange.h"
#include "support/fake_upstream_pool.h"
#include "support/seeded_random.h"
#include "support/std_regex_compiler.h"

namespace vx::testing {

// What an observer saw of one stream (the record's views die with the call).
struct Logged {
  uint16_t status;
  std::string route;
  std::string upstream;
  uint64_t bytes_sent;
};

class RecordingObserver final : public proxy::RequestLogger {
 public:
  void on_log(const proxy::RequestRecord& r) override {
    records.push_back({r.status, std::string(r.route), std::string(r.upstream), r.bytes_sent});
  }
  std::vector<Logged> records;
};

class PipelineHarness {
 public:
  using Filters = std::vector<std::shared_ptr<const ports::HttpFilter>>;

  // Builds and publishes a snapshot (a reload, when one runs already). `adjust` edits the
  // route; `prefix` is its path_prefix.
  void configure(Filters filters, std::function<void(core::config::Route&)> adjust = {},
                 std::string prefix = "/") {
    auto config = std::make_shared<core::config::Config>();
    core::config::Cluster cluster;
    cluster.name = "api";
    cluster.lb = core::config::LbPolicy::RoundRobin;
    for (uint16_t port : {9001, 9002}) {
      core::config::Endpoint e;
      e.address.host = "127.0.0.1";
      e.address.port = port;
      e.address.text = "127.0.0.1:" + std::to_string(port);
      cluster.endpoints.push_back(std::move(e));
    }
    config->clusters.push_back(std::move(cluster));
    core::config::Route route;
    route.name = "api";
    route.match.path_prefix = prefix;
    route.cluster = "api";
    for (const auto& f : filters) route.plugins.push_back(std::string(f->name()));
    if (adjust) adjust(route);
    config->routes.push_back(std::move(route));
    proxy::FilterSources sources;
    sources.plugin = [filters](std::string_view name) -> std::shared_ptr<const ports::HttpFilter> {
      for (const auto& f : filters) {
        if (f->name() == name) return f;
      }
      return nullptr;
    };
    StdRegexCompiler regex;
    auto built = proxy::Runtime::build(config, regex, core::SteadyClock::now(),
                                       holder_.load().get(), nullptr, sources);
    ASSERT_TRUE(built.has_value());
    holder_.publish(*built);
  }

  // Serves one stream to its end.
  void serve(FakeDownstreamExchange& exchange) {
    bool done = false;
    start(exchange, done);
    io_.run_for(std::chrono::seconds(10));
    io_.restart();
    ASSERT_TRUE(done) << "the stream did not finish";
  }
  void start(FakeDownstreamExchange& exchange, bool& done) {
    boost::asio::co_spawn(io_.get_executor(), proxy::serve_stream(exchange, worker_),
                          [&exchange, &done](std::exception_ptr error) {
                            done = true;
                            exchange.disarm();
                            if (error) std::rethrow_exception(error);
                          });
  }

 protected:
  boost::asio::io_context io_;
  FakeUpstreamPool pool_{io_};
  test::SeededRandom random_;
  proxy::RuntimeHolder holder_;
  RecordingObserver observer_;
  proxy::WorkerContext worker_{proxy::WorkerRuntime(holder_), pool_, random_, {&observer_}};
};

}  // namespace vx::testing
