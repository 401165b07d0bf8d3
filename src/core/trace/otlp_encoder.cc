#include "core/trace/otlp_encoder.h"

#include <cstring>

#include "core/trace/protobuf_writer.h"

namespace vx::core::trace {

namespace {

// Field numbers, from the OTLP .proto files (proto/opentelemetry/proto/...).
namespace request {
constexpr uint32_t kResourceSpans = 1;
}
namespace resource_spans {
constexpr uint32_t kResource = 1, kScopeSpans = 2;
}
namespace resource {
constexpr uint32_t kAttributes = 1;
}
namespace scope_spans {
constexpr uint32_t kScope = 1, kSpans = 2;
}
namespace scope {
constexpr uint32_t kName = 1, kVersion = 2;
}
namespace span {
constexpr uint32_t kTraceId = 1, kSpanId = 2, kParentSpanId = 4, kName = 5, kKind = 6, kStart = 7,
                   kEnd = 8, kAttributes = 9, kEvents = 11, kStatus = 15, kFlags = 16;
}
namespace event {
constexpr uint32_t kTime = 1, kName = 2;
}
namespace status {
constexpr uint32_t kMessage = 2, kCode = 3;
}
namespace key_value {
constexpr uint32_t kKey = 1, kValue = 2;
}
namespace any_value {
constexpr uint32_t kString = 1, kBool = 2, kInt = 3;
}

// Attributes are most of a span's bytes: their sizes are computed up front rather than patched
// in after (ProtobufWriter::open/close move the body back when the length is short).
void string_attribute(ProtobufWriter& w, uint32_t field, std::string_view key,
                      std::string_view value) {
  const size_t any = ProtobufWriter::delimited_size(value.size());
  w.message_header(
      field, ProtobufWriter::delimited_size(key.size()) + ProtobufWriter::delimited_size(any));
  w.bytes_field(key_value::kKey, key);
  w.message_header(key_value::kValue, any);
  w.bytes_field(any_value::kString, value);
}

void string_attribute_if(ProtobufWriter& w, uint32_t field, std::string_view key,
                         std::string_view value) {
  if (!value.empty()) string_attribute(w, field, key, value);
}

void int_attribute(ProtobufWriter& w, uint32_t field, std::string_view key, int64_t value) {
  const size_t any = 1 + ProtobufWriter::varint_size(static_cast<uint64_t>(value));
  w.message_header(
      field, ProtobufWriter::delimited_size(key.size()) + ProtobufWriter::delimited_size(any));
  w.bytes_field(key_value::kKey, key);
  w.message_header(key_value::kValue, any);
  w.varint_field(any_value::kInt, static_cast<uint64_t>(value));
}

std::string_view rate_limit_name(RateLimitDecision d) {
  switch (d) {
    case RateLimitDecision::Allowed:
      return "allowed";
    case RateLimitDecision::Limited:
      return "limited";
    case RateLimitDecision::Error:
      return "error";
    case RateLimitDecision::None:
      break;
  }
  return "";
}

std::string_view event_name(SpanEventKind kind) {
  switch (kind) {
    case SpanEventKind::RateLimited:
      return "vortex.rate_limited";
    case SpanEventKind::NoEndpoint:
      return "vortex.no_endpoint_available";
  }
  return "";
}

void encode_attributes(ProtobufWriter& w, const SpanRecord& s) {
  constexpr uint32_t f = span::kAttributes;
  string_attribute(w, f, "http.request.method", s.method.view());
  if (s.http_status != 0) int_attribute(w, f, "http.response.status_code", s.http_status);
  if (s.kind == SpanKind::Server) {
    string_attribute_if(w, f, "url.path", s.path.view());
    string_attribute_if(w, f, "url.scheme", s.scheme.view());
    string_attribute_if(w, f, "http.route", s.http_route.view());
    string_attribute_if(w, f, "network.protocol.version", s.protocol_version.view());
    string_attribute_if(w, f, "server.address", s.server_address.view());
    if (s.server_port != 0) int_attribute(w, f, "server.port", s.server_port);
    string_attribute_if(w, f, "client.address", s.client_address.view());
    string_attribute_if(w, f, "user_agent.original", s.user_agent.view());
    string_attribute_if(w, f, "vortex.route", s.route.view());
    string_attribute_if(w, f, "vortex.rate_limit", rate_limit_name(s.rate_limit));
    string_attribute_if(w, f, "vortex.answered_by", s.answered_by.view());
    if (s.attempts != 0) int_attribute(w, f, "vortex.upstream.attempts", s.attempts);
  } else {
    // The endpoint; network.peer.* would say the same again (a span's bytes are its cost).
    string_attribute_if(w, f, "server.address", s.server_address.view());
    if (s.server_port != 0) int_attribute(w, f, "server.port", s.server_port);
    if (s.attempts != 0) int_attribute(w, f, "http.request.resend_count", s.attempts);
  }
  string_attribute_if(w, f, "vortex.cluster", s.cluster.view());
  string_attribute_if(w, f, "vortex.endpoint", s.endpoint.view());
  string_attribute_if(w, f, "error.type", s.error.view());
}

void encode_span(ProtobufWriter& w, const SpanRecord& s, std::string& name) {
  char* const body = w.open(scope_spans::kSpans);
  w.bytes_field(span::kTraceId, s.trace_id.bytes.data(), s.trace_id.bytes.size());
  w.bytes_field(span::kSpanId, s.span_id.bytes.data(), s.span_id.bytes.size());
  if (s.parent_span_id.valid()) {
    w.bytes_field(span::kParentSpanId, s.parent_span_id.bytes.data(),
                  s.parent_span_id.bytes.size());
  }
  span_name(s, name);
  w.bytes_field(span::kName, name);
  w.varint_field(span::kKind, static_cast<uint64_t>(s.kind));
  w.fixed64_field(span::kStart, s.start_unix_ns);
  w.fixed64_field(span::kEnd, s.end_unix_ns);
  encode_attributes(w, s);
  for (size_t i = 0; i < s.event_count; ++i) {
    char* const e = w.open(span::kEvents);
    w.fixed64_field(event::kTime, s.events[i].time_unix_ns);
    w.bytes_field(event::kName, event_name(s.events[i].kind));
    w.close(e);
  }
  if (s.status != SpanStatus::Unset) {
    char* const st = w.open(span::kStatus);
    if (!s.error.empty()) w.bytes_field(status::kMessage, s.error.view());
    w.varint_field(status::kCode, static_cast<uint64_t>(s.status));
    w.close(st);
  }
  w.fixed32_field(span::kFlags, s.flags);
  w.close(body);
}

}  // namespace

void span_name(const SpanRecord& span, std::string& out) {
  out.assign(span.method.view());
  if (span.kind == SpanKind::Server && !span.http_route.empty()) {
    out.push_back(' ');
    out.append(span.http_route.view());
  }
}

// A span's worst case: its texts are bounded by their slots (sizeof; each written twice at most),
// its attribute names and framing by kSpanOverhead.
constexpr size_t kSpanOverhead = 2048;
constexpr size_t kMaxSpanBytes = sizeof(SpanRecord) * 2 + kSpanOverhead;

void OtlpBatchEncoder::begin(const ResourceInfo& info) {
  // The resource's strings are written twice at most (service.version is the scope's too).
  const size_t bound =
      1024 + 2 * (info.service_name.size() + info.service_version.size() + info.host_name.size()) +
      max_spans_ * kMaxSpanBytes;
  if (buffer_.size() < bound) buffer_.resize(bound);  // grows once; never refilled
  count_ = 0;
  ProtobufWriter w(buffer_.data());
  resource_spans_ = w.open(request::kResourceSpans);
  char* const res = w.open(resource_spans::kResource);
  string_attribute(w, resource::kAttributes, "service.name", info.service_name);
  string_attribute_if(w, resource::kAttributes, "service.version", info.service_version);
  string_attribute_if(w, resource::kAttributes, "host.name", info.host_name);
  w.close(res);
  scope_spans_ = w.open(resource_spans::kScopeSpans);
  char* const sc = w.open(scope_spans::kScope);
  w.bytes_field(scope::kName, "vortex");
  if (!info.service_version.empty()) w.bytes_field(scope::kVersion, info.service_version);
  w.close(sc);
  cursor_ = w.position();
}

void OtlpBatchEncoder::add(const SpanRecord& span) {
  ProtobufWriter w(cursor_);
  encode_span(w, span, name_);
  cursor_ = w.position();
  ++count_;
}

std::string_view OtlpBatchEncoder::finish() {
  // The two messages around the spans get their lengths without moving the spans (a close()
  // would move the whole batch back over the room its length did not need): each length is
  // written at the end of its room and only the few bytes before it (the resource, the tags)
  // move, so the request starts a few bytes into the buffer.
  char* const end = cursor_;
  char length[10];
  const size_t scope_length =
      ProtobufWriter::write_varint(static_cast<uint64_t>(end - scope_spans_), length);
  std::memcpy(scope_spans_ - scope_length, length, scope_length);
  char* const before = resource_spans_;  // the resource, then the ScopeSpans tag
  char* const before_end = scope_spans_ - ProtobufWriter::kLengthRoom;
  const size_t shift = ProtobufWriter::kLengthRoom - scope_length;
  std::memmove(before + shift, before, static_cast<size_t>(before_end - before));
  char* const body = before + shift;
  const size_t body_length =
      ProtobufWriter::write_varint(static_cast<uint64_t>(end - body), length);
  char* start = body - body_length;
  std::memcpy(start, length, body_length);
  *--start = *(resource_spans_ - ProtobufWriter::kLengthRoom - 1);  // its tag
  return {start, static_cast<size_t>(end - start)};
}

size_t encode_export_request(const ResourceInfo& info, std::span<const SpanRecord> spans,
                             std::string& out) {
  OtlpBatchEncoder encoder(spans.size());
  encoder.begin(info);
  for (const SpanRecord& s : spans) encoder.add(s);
  const std::string_view bytes = encoder.finish();
  if (out.size() < bytes.size()) out.resize(bytes.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace vx::core::trace
