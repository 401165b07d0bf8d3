#include "proxy/stream_trace.h"

#include <gtest/gtest.h>

#include <string>

#include "core/trace/trace_context.h"
#include "support/in_memory_span_exporter.h"

namespace vx::proxy {
namespace {

using core::trace::SpanKind;
using core::trace::SpanStatus;

constexpr std::string_view kCaller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

class StreamTraceTest : public ::testing::Test {
 protected:
  core::http::RequestHead head_;
  core::Xoshiro256 random_{17};
  testing::InMemorySpanExporter exporter_;
  StreamTrace trace_;
  const ports::ConnectionFacts facts_{"10.0.0.1", 5555, "127.0.0.1", 8080, "main", "HTTP/1.1"};

  void request(std::initializer_list<core::http::Header> fields) {
    head_.method = "GET";
    head_.scheme = "http";
    head_.authority = "example.com:8080";
    head_.target = "/a/b?q=1";
    head_.headers.assign(fields);
  }
  std::vector<std::string_view> values(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& f : head_.headers) {
      if (core::http::iequals(f.name, name)) out.push_back(f.value);
    }
    return out;
  }
  std::optional<core::trace::TraceParent> sent() const {
    const auto v = values("traceparent");
    EXPECT_EQ(v.size(), 1u);
    return v.empty() ? std::nullopt : core::trace::parse_traceparent(v[0]);
  }
};

TEST_F(StreamTraceTest, ContinuesTheCallersTraceWithANewSpanPerAttempt) {
  request({{"Traceparent", kCaller}, {"tracestate", "rojo=1"}, {"user-agent", "t/1"}});
  const auto caller = core::trace::parse_traceparent(kCaller);
  trace_.begin(head_, 0.0, random_, StreamTrace::Clock::now(), facts_);
  EXPECT_TRUE(trace_.sampled());  // the caller's flag, not the ratio
  EXPECT_EQ(trace_.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(values("traceparent").empty());  // the caller's goes; each attempt sends its own
  EXPECT_EQ(values("tracestate"), std::vector<std::string_view>{"rojo=1"});

  trace_.begin_attempt(head_, random_);
  const auto first = sent();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->trace_id, caller->trace_id);
  EXPECT_NE(first->parent_id, caller->parent_id);
  EXPECT_TRUE(first->sampled());
  trace_.end_attempt(
      exporter_,
      {"c", "127.0.0.1:9001", 0, core::http::Error{core::http::ErrorKind::UpstreamReset, "reset"}},
      StreamTrace::Clock::now());
  trace_.begin_attempt(head_, random_);
  const auto second = sent();
  ASSERT_TRUE(second);
  EXPECT_NE(second->parent_id, first->parent_id);
  trace_.end_attempt(exporter_, {"c", "127.0.0.1:9002", 200, std::nullopt},
                     StreamTrace::Clock::now());
  trace_.finish(exporter_,
                {.status = 200, .route = "r", .http_route = "/a/", .http_route_prefix = true},
                StreamTrace::Clock::now());

  ASSERT_EQ(exporter_.spans.size(), 3u);
  const auto& c1 = exporter_.spans[0];
  const auto& c2 = exporter_.spans[1];
  const auto& server = exporter_.spans[2];
  EXPECT_EQ(server.kind, SpanKind::Server);
  EXPECT_EQ(server.parent_span_id, caller->parent_id);
  EXPECT_EQ(server.attempts, 2);
  EXPECT_EQ(server.http_route.view(), "/a/*");
  EXPECT_EQ(server.path.view(), "/a/b");
  EXPECT_EQ(server.server_address.view(), "example.com");
  EXPECT_EQ(server.server_port, 8080);
  EXPECT_EQ(server.protocol_version.view(), "1.1");
  EXPECT_EQ(server.user_agent.view(), "t/1");
  EXPECT_EQ(c1.kind, SpanKind::Client);
  EXPECT_EQ(c1.span_id, first->parent_id);
  EXPECT_EQ(c1.parent_span_id, server.span_id);
  EXPECT_EQ(c1.status, SpanStatus::Error);
  EXPECT_EQ(c1.attempts, 0);
  EXPECT_EQ(c2.span_id, second->parent_id);
  EXPECT_EQ(c2.attempts, 1);
  EXPECT_EQ(c2.server_address.view(), "127.0.0.1");
  EXPECT_EQ(c2.server_port, 9002);
  EXPECT_EQ(c2.status, SpanStatus::Unset);
  EXPECT_LE(server.start_unix_ns, c1.start_unix_ns);
  EXPECT_LE(c2.end_unix_ns, server.end_unix_ns);
}

TEST_F(StreamTraceTest, AnInvalidParentStartsANewTraceAndDropsTheState) {
  request({{"traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"},
           {"tracestate", "rojo=1"}});
  trace_.begin(head_, 1.0, random_, StreamTrace::Clock::now(), facts_);
  EXPECT_NE(trace_.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(values("tracestate").empty());
  trace_.finish(exporter_, {.status = 200}, StreamTrace::Clock::now());
  ASSERT_EQ(exporter_.spans.size(), 1u);
  EXPECT_FALSE(exporter_.spans[0].parent_span_id.valid());
}

TEST_F(StreamTraceTest, TwoTraceparentFieldsAreNoParent) {
  request({{"traceparent", kCaller}, {"traceparent", kCaller}});
  trace_.begin(head_, 0.0, random_, StreamTrace::Clock::now(), facts_);
  EXPECT_NE(trace_.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(trace_.sampled());
}

TEST_F(StreamTraceTest, AnInvalidStateIsDroppedButTheParentKept) {
  request({{"traceparent", kCaller}, {"tracestate", "Bad Key=1"}});
  trace_.begin(head_, 0.0, random_, StreamTrace::Clock::now(), facts_);
  EXPECT_EQ(trace_.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(values("tracestate").empty());
}

TEST_F(StreamTraceTest, AnUnsampledStreamPropagatesButRecordsNothing) {
  request({{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}});
  trace_.begin(head_, 1.0, random_, StreamTrace::Clock::now(), facts_);
  EXPECT_FALSE(trace_.sampled());
  trace_.begin_attempt(head_, random_);
  const auto out = sent();
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->sampled());
  trace_.end_attempt(exporter_, {"c", "127.0.0.1:9001", 200, std::nullopt},
                     StreamTrace::Clock::now());
  trace_.finish(exporter_, {.status = 200}, StreamTrace::Clock::now());
  EXPECT_TRUE(exporter_.spans.empty());
}

TEST_F(StreamTraceTest, AServerSpanIsAnErrorOn5xxOnly) {
  request({});
  trace_.begin(head_, 1.0, random_, StreamTrace::Clock::now(), facts_);
  trace_.event(core::trace::SpanEventKind::NoEndpoint, StreamTrace::Clock::now());
  trace_.finish(exporter_, {.status = 503, .error = "no endpoint"}, StreamTrace::Clock::now());
  StreamTrace other;
  other.begin(head_, 1.0, random_, StreamTrace::Clock::now(), facts_);
  other.finish(exporter_, {.status = 404}, StreamTrace::Clock::now());
  ASSERT_EQ(exporter_.spans.size(), 2u);
  EXPECT_EQ(exporter_.spans[0].status, SpanStatus::Error);
  EXPECT_EQ(exporter_.spans[0].error.view(), "no endpoint");
  EXPECT_EQ(exporter_.spans[0].event_count, 1);
  EXPECT_EQ(exporter_.spans[1].status, SpanStatus::Unset);
}

}  // namespace
}  // namespace vx::proxy
