#include "core/trace/otlp_encoder.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace vx::core::trace {
namespace {

namespace otlp = opentelemetry::proto;

std::map<std::string, otlp::common::v1::AnyValue> attributes(
    const google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>& list) {
  std::map<std::string, otlp::common::v1::AnyValue> out;
  for (const auto& kv : list) {
    EXPECT_FALSE(out.contains(kv.key())) << "attribute twice: " << kv.key();
    out[kv.key()] = kv.value();
  }
  return out;
}

SpanRecord server_span(Random& random) {
  SpanRecord s;
  s.trace_id = new_trace_id(random);
  s.span_id = new_span_id(random);
  s.parent_span_id = new_span_id(random);
  s.flags = kSampledFlag;
  s.kind = SpanKind::Server;
  s.status = SpanStatus::Error;
  s.http_status = 503;
  s.server_port = 8080;
  s.client_port = 40000;
  s.attempts = 2;
  s.start_unix_ns = 1'700'000'000'000'000'000ULL;
  s.end_unix_ns = s.start_unix_ns + 1'500'000;
  s.method.assign("GET");
  s.scheme.assign("http");
  s.protocol_version.assign("1.1");
  s.path.assign("/v1/users");
  s.http_route.assign("/v1/*");
  s.route.assign("api");
  s.cluster.assign("backend");
  s.endpoint.assign("127.0.0.1:9001");
  s.server_address.assign("api.example.com");
  s.client_address.assign("10.0.0.7");
  s.user_agent.assign("curl/7.88.1");
  s.error.assign("no endpoint");
  s.rate_limit = RateLimitDecision::Allowed;
  s.add_event(SpanEventKind::NoEndpoint, s.start_unix_ns + 10);
  return s;
}

TEST(OtlpEncoderTest, ProtocDecodesWhatItWrites) {
  Xoshiro256 random(42);
  std::vector<SpanRecord> spans{server_span(random)};
  SpanRecord client;
  client.trace_id = spans[0].trace_id;
  client.span_id = new_span_id(random);
  client.parent_span_id = spans[0].span_id;
  client.kind = SpanKind::Client;
  client.method.assign("GET");
  client.server_address.assign("127.0.0.1");
  client.server_port = 9001;
  client.attempts = 1;
  client.http_status = 200;
  client.start_unix_ns = 5;
  client.end_unix_ns = 6;
  spans.push_back(client);

  std::string bytes;
  bytes.resize(encode_export_request({"edge", "0.1.0", "host-a"}, spans, bytes));
  otlp::collector::trace::v1::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes));
  ASSERT_EQ(request.resource_spans_size(), 1);
  const auto& rs = request.resource_spans(0);
  const auto resource = attributes(rs.resource().attributes());
  EXPECT_EQ(resource.at("service.name").string_value(), "edge");
  EXPECT_EQ(resource.at("service.version").string_value(), "0.1.0");
  EXPECT_EQ(resource.at("host.name").string_value(), "host-a");
  ASSERT_EQ(rs.scope_spans_size(), 1);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "vortex");
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 2);

  const auto& server = rs.scope_spans(0).spans(0);
  const SpanRecord& s = spans[0];
  EXPECT_EQ(server.trace_id(),
            std::string(reinterpret_cast<const char*>(s.trace_id.bytes.data()), 16));
  EXPECT_EQ(server.span_id(),
            std::string(reinterpret_cast<const char*>(s.span_id.bytes.data()), 8));
  EXPECT_EQ(server.parent_span_id(),
            std::string(reinterpret_cast<const char*>(s.parent_span_id.bytes.data()), 8));
  EXPECT_EQ(server.name(), "GET /v1/*");
  EXPECT_EQ(server.kind(), otlp::trace::v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(server.start_time_unix_nano(), s.start_unix_ns);
  EXPECT_EQ(server.end_time_unix_nano(), s.end_unix_ns);
  EXPECT_EQ(server.flags(), 1u);
  EXPECT_EQ(server.status().code(), otlp::trace::v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(server.status().message(), "no endpoint");
  ASSERT_EQ(server.events_size(), 1);
  EXPECT_EQ(server.events(0).name(), "vortex.no_endpoint_available");
  EXPECT_EQ(server.events(0).time_unix_nano(), s.start_unix_ns + 10);
  const auto a = attributes(server.attributes());
  EXPECT_EQ(a.at("http.request.method").string_value(), "GET");
  EXPECT_EQ(a.at("http.response.status_code").int_value(), 503);
  EXPECT_EQ(a.at("url.path").string_value(), "/v1/users");
  EXPECT_EQ(a.at("http.route").string_value(), "/v1/*");
  EXPECT_EQ(a.at("network.protocol.version").string_value(), "1.1");
  EXPECT_EQ(a.at("server.address").string_value(), "api.example.com");
  EXPECT_EQ(a.at("server.port").int_value(), 8080);
  EXPECT_EQ(a.at("client.address").string_value(), "10.0.0.7");
  EXPECT_EQ(a.at("user_agent.original").string_value(), "curl/7.88.1");
  EXPECT_EQ(a.at("vortex.route").string_value(), "api");
  EXPECT_EQ(a.at("vortex.cluster").string_value(), "backend");
  EXPECT_EQ(a.at("vortex.endpoint").string_value(), "127.0.0.1:9001");
  EXPECT_EQ(a.at("vortex.rate_limit").string_value(), "allowed");
  EXPECT_EQ(a.at("vortex.upstream.attempts").int_value(), 2);
  EXPECT_EQ(a.at("error.type").string_value(), "no endpoint");

  const auto& c = rs.scope_spans(0).spans(1);
  EXPECT_EQ(c.kind(), otlp::trace::v1::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(c.name(), "GET");
  EXPECT_EQ(c.parent_span_id(), server.span_id());
  EXPECT_FALSE(c.has_status());
  const auto ca = attributes(c.attributes());
  EXPECT_EQ(ca.at("server.address").string_value(), "127.0.0.1");
  EXPECT_EQ(ca.at("server.port").int_value(), 9001);
  EXPECT_EQ(ca.at("http.request.resend_count").int_value(), 1);
  EXPECT_EQ(ca.at("http.response.status_code").int_value(), 200);
}

TEST(OtlpEncoderTest, ARootSpanHasNoParentAndLongTextsAreCut) {
  Xoshiro256 random(1);
  SpanRecord s = server_span(random);
  s.parent_span_id = {};
  s.path.assign(std::string(1000, 'p'));  // over its slot
  std::string bytes;
  bytes.resize(encode_export_request({"vortex", "", ""}, {&s, 1}, bytes));
  otlp::collector::trace::v1::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes));
  const auto& span = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_TRUE(span.parent_span_id().empty());
  EXPECT_EQ(attributes(span.attributes()).at("url.path").string_value().size(), 256u);
  EXPECT_FALSE(attributes(request.resource_spans(0).resource().attributes()).contains("host.name"));
}

TEST(OtlpEncoderTest, ABigBatchKeepsItsLengthsRight) {
  // Lengths over 127 and 16383 take two and three varint bytes: the in-place length rewrite.
  Xoshiro256 random(2);
  std::vector<SpanRecord> spans;
  for (int i = 0; i < 300; ++i) spans.push_back(server_span(random));
  std::string bytes;
  bytes.resize(encode_export_request({"vortex", "1", "h"}, spans, bytes));
  ASSERT_GT(bytes.size(), 16384u);
  otlp::collector::trace::v1::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes));
  EXPECT_EQ(request.resource_spans(0).scope_spans(0).spans_size(), 300);
  // The exporter reuses one buffer: a smaller batch after a big one reads right.
  std::string reused = bytes;
  reused.resize(reused.capacity());
  const size_t n = encode_export_request({"vortex", "1", "h"}, {spans.data(), 2}, reused);
  otlp::collector::trace::v1::ExportTraceServiceRequest small;
  ASSERT_TRUE(small.ParseFromString(reused.substr(0, n)));
  EXPECT_EQ(small.resource_spans(0).scope_spans(0).spans_size(), 2);
  EXPECT_EQ(request.resource_spans(0).scope_spans(0).spans(299).span_id(),
            std::string(reinterpret_cast<const char*>(spans[299].span_id.bytes.data()), 8));
}

}  // namespace
}  // namespace vx::core::trace
