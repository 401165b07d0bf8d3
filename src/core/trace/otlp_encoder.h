// OTLP/protobuf encoding of finished spans: one ExportTraceServiceRequest
// (opentelemetry/proto/collector/trace/v1/trace_service.proto, field numbers as in proto/
// opentelemetry/) holding one ResourceSpans with the process's resource and one ScopeSpans.
// Attribute names follow the OpenTelemetry HTTP semantic conventions (docs/tracing.md lists
// them). Pure; called on the exporter's thread.
#pragma once

#include <span>
#include <string>

#include "core/trace/span_record.h"

namespace vx::core::trace {

// Resource attributes (service.name, service.version, host.name).
struct ResourceInfo {
  std::string service_name;
  std::string service_version;
  std::string host_name;
};

// Builds one ExportTraceServiceRequest a span at a time, into a buffer sized once for the worst
// case of max_spans spans (no check per byte, no growth while a batch is written), so the
// exporter can encode spans straight out of its queue. Reused batch after batch.
class OtlpBatchEncoder {
 public:
  explicit OtlpBatchEncoder(size_t max_spans) : max_spans_(max_spans) {}
  // Starts a request (what an earlier finish() returned is gone).
  void begin(const ResourceInfo& resource);
  // REQUIRES: begin() was called and fewer than max_spans spans were added since.
  void add(const SpanRecord& span);
  size_t spans() const { return count_; }
  // Ends the request: its bytes, valid until the next begin().
  std::string_view finish();

 private:
  const size_t max_spans_;
  std::string buffer_;
  std::string name_;
  size_t count_ = 0;
  char* cursor_ = nullptr;
  char* resource_spans_ = nullptr;  // bodies open until finish()
  char* scope_spans_ = nullptr;
};

// The whole request for `spans` at once (OtlpBatchEncoder for one batch), written at the start of
// `out`, which only grows; returns its size (bytes past it are left as they were).
size_t encode_export_request(const ResourceInfo& resource, std::span<const SpanRecord> spans,
                             std::string& out);

// The span's name: SERVER "{method} {http.route}" (just the method without a route template),
// CLIENT "{method}" (semconv: low cardinality). Written into `out`.
void span_name(const SpanRecord& span, std::string& out);

}  // namespace vx::core::trace
